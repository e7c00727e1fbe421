# One whole environment: network, IAM (incl. GitHub OIDC federation), Artifact Registry,
# Secret Manager, buckets, Cloud SQL, the runtime (GKE Autopilot or Cloud Run) and the OPA bundle.
# envs/<env> call it with their own values and the protection knobs (deletion_protection,
# force_destroy, sql_high_availability, sql_point_in_time_recovery, cloudrun_min_instances).

locals {
  apis = [
    "artifactregistry.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "sts.googleapis.com",
  ]
  k8s_namespace   = "mcpgw-${var.env}"
  runtime_member  = "serviceAccount:${module.iam.runtime_service_account}"
  deployer_member = "serviceAccount:${module.iam.deployer_service_account}"
  db_user         = trimsuffix(module.iam.runtime_service_account, ".gserviceaccount.com")
  gateway_env = {
    ENV                     = var.env
    GATEWAY_PORT            = "8080"
    LOG_FORMAT              = "json"
    GATEWAY_ALLOWED_ORIGINS = "https://${var.public_host}"
    OAUTH_ISSUER            = var.oauth_issuer
    OAUTH_AUDIENCE          = "https://${var.public_host}/mcp"
    OAUTH_REQUIRED_SCOPES   = "mcp:read"
    GATEWAY_POLICY_MODE     = "opa"
    OPA_URL                 = "http://127.0.0.1:8181"
    OPA_DECISION_PATH       = "/mcp/authz/allow"
    HISTORY_DB_DSN          = "postgresql://${urlencode(local.db_user)}@127.0.0.1:5432/mcp?sslmode=disable"
  }
  opa_config = yamlencode({
    services = {
      gcs = {
        url         = "https://storage.googleapis.com/storage/v1/b/${var.opa_policy_bucket}/o"
        credentials = { gcp_metadata = { scopes = ["https://www.googleapis.com/auth/devstorage.read_only"] } }
      }
    }
    bundles = {
      mcp = {
        service  = "gcs"
        resource = "bundles%2Fmcp%2Fbundle.tar.gz?alt=media"
        polling  = { min_delay_seconds = 30, max_delay_seconds = 120 }
      }
      emergency = {
        service  = "gcs"
        resource = "bundles%2Femergency%2Fbundle.tar.gz?alt=media"
        polling  = { min_delay_seconds = 5, max_delay_seconds = 10 }
      }
    }
    decision_logs = { console = true }
  })
}

resource "google_project_service" "apis" {
  for_each = toset(local.apis)

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

module "network" {
  source = "../network"

  project_id   = var.project_id
  region       = var.region
  env          = var.env
  network_cidr = var.network_cidr
  subnet_cidrs = var.subnet_cidrs

  depends_on = [google_project_service.apis]
}

module "gke" {
  source = "../gke"
  count  = var.runtime == "gke" ? 1 : 0

  project_id              = var.project_id
  region                  = var.region
  env                     = var.env
  network_id              = module.network.network_id
  subnet_id               = module.network.workloads_subnet_id
  pods_range_name         = module.network.pods_range_name
  services_range_name     = module.network.services_range_name
  master_authorized_cidrs = var.gke_master_authorized_cidrs
  deletion_protection     = var.deletion_protection
}

module "iam" {
  source = "../iam"

  project_id             = var.project_id
  env                    = var.env
  k8s_namespace          = local.k8s_namespace
  workload_identity_pool = var.workload_identity_pool
  github_repository      = var.github_repository
  gke_workload_pool      = one(module.gke[*].workload_pool)

  depends_on = [google_project_service.apis]
}

module "artifact_registry" {
  source = "../artifact_registry"

  project_id    = var.project_id
  region        = var.region
  repository_id = var.artifact_registry_repo
  writers       = [local.deployer_member]
  readers       = [local.runtime_member]
}

module "secrets" {
  source = "../secrets"

  project_id = var.project_id
  env        = var.env
  accessors  = [local.runtime_member]
  opa_config = local.opa_config
}

module "storage" {
  source = "../storage"

  project_id        = var.project_id
  region            = var.region
  env               = var.env
  opa_policy_bucket = var.opa_policy_bucket
  bundle_readers    = [local.runtime_member]
  bundle_writers    = [local.deployer_member]
  force_destroy     = var.force_destroy
}

module "sql" {
  source = "../sql"

  project_id             = var.project_id
  region                 = var.region
  env                    = var.env
  network_id             = module.network.network_id
  tier                   = var.sql_instance_tier
  high_availability      = var.sql_high_availability
  point_in_time_recovery = var.sql_point_in_time_recovery
  deletion_protection    = var.deletion_protection
  iam_users              = [module.iam.runtime_service_account]

  # The private IP comes from the private service access range.
  depends_on = [module.network]
}

module "cloudrun" {
  source = "../cloudrun"
  count  = var.runtime == "cloudrun" ? 1 : 0

  project_id           = var.project_id
  region               = var.region
  env                  = var.env
  image                = var.image
  service_account      = module.iam.runtime_service_account
  network_id           = module.network.network_id
  subnet_id            = module.network.run_subnet_id
  sql_connection_name  = module.sql.connection_name
  opa_config_secret_id = module.secrets.opa_config_secret_id
  gateway_env          = local.gateway_env
  min_instances        = var.cloudrun_min_instances
  deletion_protection  = var.deletion_protection
}

module "opa_bundle" {
  source = "../opa_bundle"
  count  = var.bundle_path == "" ? 0 : 1

  bucket                = module.storage.opa_bundle_bucket
  bundle_path           = var.bundle_path
  emergency_bundle_path = var.emergency_bundle_path
}
