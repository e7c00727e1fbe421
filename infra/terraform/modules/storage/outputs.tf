output "logs_bucket" {
  description = "Bucket for log sinks and history exports."
  value       = google_storage_bucket.logs.name
}

output "opa_bundle_bucket" {
  description = "Bucket OPA pulls its bundle from."
  value       = google_storage_bucket.opa_bundles.name
}
