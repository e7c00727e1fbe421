output "gke_cluster" {
  description = "Autopilot cluster name (runtime gke)."
  value       = one(module.gke[*].cluster_name)
}

output "cloud_run_uri" {
  description = "Cloud Run URL (runtime cloudrun)."
  value       = one(module.cloudrun[*].uri)
}

output "sql_connection_name" {
  description = "Cloud SQL instance connection name (Cloud SQL Auth Proxy argument)."
  value       = module.sql.connection_name
}

output "runtime_service_account" {
  description = "Gateway runtime service account (Workload Identity annotation in deploy/k8s)."
  value       = module.iam.runtime_service_account
}

output "deployer_service_account" {
  description = "Service account GitHub Actions impersonates to build and deploy."
  value       = module.iam.deployer_service_account
}

output "terraform_service_account" {
  description = "Service account GitHub Actions impersonates for plan/apply."
  value       = module.iam.terraform_service_account
}

output "workload_identity_provider" {
  description = "Value for google-github-actions/auth's workload_identity_provider."
  value       = module.iam.workload_identity_provider
}

output "artifact_registry_url" {
  description = "Image prefix for docker push."
  value       = module.artifact_registry.repository_url
}

output "opa_bundle_bucket" {
  description = "Bucket the OPA sidecars pull from."
  value       = module.storage.opa_bundle_bucket
}

output "logs_bucket" {
  description = "Bucket for log sinks and exports."
  value       = module.storage.logs_bucket
}

output "secret_ids" {
  description = "Secret Manager secret ids (values are added out of band)."
  value       = module.secrets.secret_ids
}
