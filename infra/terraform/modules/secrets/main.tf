# Secret Manager entries. Terraform creates the secrets and who may read them; the values of the
# real secrets are added out of band (docs/operations.md), so they never enter Terraform state:
#   printf '%s' "$VALUE" | gcloud secrets versions add mcpgw-<env>-oauth-client-secret --data-file=-

locals {
  secrets = {
    db-admin-password   = "Password of the PostgreSQL admin user (break-glass; workloads use IAM login)."
    oauth-client-secret = "OAuth client secret of the gateway's confidential client at the identity provider."
    session-key         = "Key for signing session cookies / state."
  }
}

resource "google_secret_manager_secret" "secret" {
  for_each = local.secrets

  project   = var.project_id
  secret_id = "mcpgw-${var.env}-${each.key}"
  labels = {
    app = "mcpgw"
    env = var.env
  }
  annotations = {
    description = each.value
  }

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret" "opa_config" {
  project   = var.project_id
  secret_id = "mcpgw-${var.env}-opa-config"
  labels = {
    app = "mcpgw"
    env = var.env
  }

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "opa_config" {
  secret      = google_secret_manager_secret.opa_config.id
  secret_data = var.opa_config
}

locals {
  grants = {
    for pair in setproduct(concat(keys(local.secrets), ["opa-config"]), var.accessors) :
    "${pair[0]}|${pair[1]}" => { secret = pair[0], member = pair[1] }
  }
}

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = local.grants

  project   = var.project_id
  secret_id = each.value.secret == "opa-config" ? google_secret_manager_secret.opa_config.secret_id : google_secret_manager_secret.secret[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member
}
