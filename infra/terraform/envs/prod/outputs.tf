# The outputs of modules/stack (described in modules/stack/outputs.tf), under the same names.

output "gke_cluster" {
  value = module.stack.gke_cluster
}

output "cloud_run_uri" {
  value = module.stack.cloud_run_uri
}

output "sql_connection_name" {
  value = module.stack.sql_connection_name
}

output "runtime_service_account" {
  value = module.stack.runtime_service_account
}

output "deployer_service_account" {
  value = module.stack.deployer_service_account
}

output "terraform_service_account" {
  value = module.stack.terraform_service_account
}

output "workload_identity_provider" {
  value = module.stack.workload_identity_provider
}

output "artifact_registry_url" {
  value = module.stack.artifact_registry_url
}

output "opa_bundle_bucket" {
  value = module.stack.opa_bundle_bucket
}

output "logs_bucket" {
  value = module.stack.logs_bucket
}

output "secret_ids" {
  value = module.stack.secret_ids
}
