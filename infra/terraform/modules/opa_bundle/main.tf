# Publishes the OPA bundles (`make bundle`) to the bundle bucket; OPA sidecars poll it
# (deploy/k8s/*/opa-config.yaml) and activate a new revision without a restart.
# - the policy bundle (policies + data): replaced whenever its content changes;
# - the emergency switch (data.mcp.emergency), its own bundle: created once with the repository's
#   default (no emergency) and then left to operators, who publish a new one during an incident
#   (docs/operations.md). Terraform never reverts it.

resource "google_storage_bucket_object" "bundle" {
  bucket       = var.bucket
  name         = var.object_name
  source       = var.bundle_path
  content_type = "application/gzip"
  metadata = {
    sha256 = filesha256(var.bundle_path)
  }
}

resource "google_storage_bucket_object" "emergency" {
  count = var.emergency_bundle_path == "" ? 0 : 1

  bucket       = var.bucket
  name         = var.emergency_object_name
  source       = var.emergency_bundle_path
  content_type = "application/gzip"

  lifecycle {
    ignore_changes = all
  }
}
