# The prod environment: modules/stack (network, IAM incl. GitHub OIDC federation, Artifact
# Registry, Secret Manager, buckets, Cloud SQL, the runtime and the OPA bundle) with this
# environment's protection settings. Its variables are in variables.tf (TF_VAR_*).

module "stack" {
  source = "../../modules/stack"

  # prod: deletion protection everywhere, buckets never emptied by terraform destroy, a regional
  # (HA) database with point-in-time recovery, one warm Cloud Run instance.
  # tests/deploy/terraform-check.mjs requires the three database settings to reach modules/sql as
  # literal true from here.
  deletion_protection        = true
  force_destroy              = false
  sql_high_availability      = true
  sql_point_in_time_recovery = true
  cloudrun_min_instances     = 1

  project_id                  = var.project_id
  region                      = var.region
  env                         = var.env
  network_cidr                = var.network_cidr
  subnet_cidrs                = var.subnet_cidrs
  sql_instance_tier           = var.sql_instance_tier
  workload_identity_pool      = var.workload_identity_pool
  opa_policy_bucket           = var.opa_policy_bucket
  artifact_registry_repo      = var.artifact_registry_repo
  github_repository           = var.github_repository
  runtime                     = var.runtime
  image                       = var.image
  public_host                 = var.public_host
  oauth_issuer                = var.oauth_issuer
  gke_master_authorized_cidrs = var.gke_master_authorized_cidrs
  bundle_path                 = var.bundle_path
  emergency_bundle_path       = var.emergency_bundle_path
}
