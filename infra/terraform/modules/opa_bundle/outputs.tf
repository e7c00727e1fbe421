output "bundle_object" {
  description = "gs:// URL of the published bundle."
  value       = "gs://${var.bucket}/${google_storage_bucket_object.bundle.name}"
}

output "bundle_md5" {
  description = "MD5 of the published bundle."
  value       = google_storage_bucket_object.bundle.md5hash
}
