# Least-privilege service accounts, no keys anywhere:
# - mcpgw-runtime: the gateway pods / Cloud Run service (Cloud SQL IAM login, logs, metrics;
#   secret and bucket access are granted on the resources themselves by their modules);
# - mcpgw-deployer: GitHub Actions, through workload identity federation (OIDC), limited to
#   one repository; pushes images and deploys;
# - mcpgw-terraform: GitHub Actions' plan/apply, same federation, only from a protected
#   environment (see .github/workflows/deploy.yml).

locals {
  runtime_roles = [
    "roles/cloudsql.client",
    "roles/cloudsql.instanceUser",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/cloudtrace.agent",
  ]
  deployer_roles = [
    "roles/container.developer",
    "roles/run.developer",
  ]
  terraform_roles = [
    "roles/compute.networkAdmin",
    "roles/container.clusterAdmin",
    "roles/cloudsql.admin",
    "roles/secretmanager.admin",
    "roles/storage.admin",
    "roles/artifactregistry.admin",
    "roles/run.admin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.workloadIdentityPoolAdmin",
    "roles/resourcemanager.projectIamAdmin",
    "roles/servicenetworking.networksAdmin",
    "roles/serviceusage.serviceUsageAdmin",
  ]
}

resource "google_service_account" "runtime" {
  project      = var.project_id
  account_id   = "mcpgw-runtime"
  display_name = "mcpgw gateway runtime (${var.env})"
}

resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = "mcpgw-deployer"
  display_name = "mcpgw CI deployer (${var.env})"
}

resource "google_service_account" "terraform" {
  project      = var.project_id
  account_id   = "mcpgw-terraform"
  display_name = "mcpgw Terraform (${var.env})"
}

resource "google_project_iam_member" "runtime" {
  for_each = toset(local.runtime_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.runtime.email}"
}

resource "google_project_iam_member" "deployer" {
  for_each = toset(local.deployer_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.deployer.email}"
}

resource "google_project_iam_member" "terraform" {
  for_each = toset(local.terraform_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.terraform.email}"
}

# The deployer may run Cloud Run revisions as the runtime account, nothing else.
resource "google_service_account_iam_member" "deployer_acts_as_runtime" {
  service_account_id = google_service_account.runtime.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}

# Workload Identity: the pod's Kubernetes service account acts as mcpgw-runtime.
resource "google_service_account_iam_member" "runtime_workload_identity" {
  count = var.gke_workload_pool == null ? 0 : 1

  service_account_id = google_service_account.runtime.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.gke_workload_pool}[${var.k8s_namespace}/${var.k8s_service_account}]"
}

# GitHub Actions OIDC -> short-lived Google credentials. Only this repository's tokens are
# accepted (attribute_condition), and only they may impersonate the two CI accounts.
resource "google_iam_workload_identity_pool" "github" {
  project                   = var.project_id
  workload_identity_pool_id = var.workload_identity_pool
  display_name              = "GitHub Actions"
  description               = "OIDC tokens of ${var.github_repository}"
}

resource "google_iam_workload_identity_pool_provider" "github" {
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = "github"
  display_name                       = "GitHub OIDC"
  attribute_condition                = "assertion.repository == \"${var.github_repository}\""
  attribute_mapping = {
    "google.subject"         = "assertion.sub"
    "attribute.repository"   = "assertion.repository"
    "attribute.ref"          = "assertion.ref"
    "attribute.environment"  = "assertion.environment"
    "attribute.workflow_ref" = "assertion.job_workflow_ref"
  }

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account_iam_member" "deployer_federation" {
  service_account_id = google_service_account.deployer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.repository/${var.github_repository}"
}

# Terraform runs only from this stage's GitHub environments: <env>-plan (plan) and <env>
# (apply, behind required reviewers).
resource "google_service_account_iam_member" "terraform_federation" {
  for_each = toset([var.env, "${var.env}-plan"])

  service_account_id = google_service_account.terraform.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.environment/${each.value}"
}
