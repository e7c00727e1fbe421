# Two buckets, both with uniform bucket-level access and public access prevention enforced:
# logs/exports (lifecycle: colder storage after 30 days, deleted after log_retention_days) and
# the OPA bundle bucket (versioned, so a bad bundle can be rolled back).

resource "google_storage_bucket" "logs" {
  project                     = var.project_id
  name                        = "${var.project_id}-mcpgw-logs"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
  }

  lifecycle_rule {
    condition {
      age = var.log_retention_days
    }
    action {
      type = "Delete"
    }
  }

  labels = {
    app = "mcpgw"
    env = var.env
  }
}

resource "google_storage_bucket" "opa_bundles" {
  project                     = var.project_id
  name                        = var.opa_policy_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 20
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  labels = {
    app = "mcpgw"
    env = var.env
  }
}

resource "google_storage_bucket_iam_member" "bundle_readers" {
  for_each = toset(var.bundle_readers)

  bucket = google_storage_bucket.opa_bundles.name
  role   = "roles/storage.objectViewer"
  member = each.value
}

resource "google_storage_bucket_iam_member" "bundle_writers" {
  for_each = toset(var.bundle_writers)

  bucket = google_storage_bucket.opa_bundles.name
  role   = "roles/storage.objectUser"
  member = each.value
}
