output "uri" {
  description = "URL of the service."
  value       = google_cloud_run_v2_service.gateway.uri
}

output "service_name" {
  description = "Name of the service."
  value       = google_cloud_run_v2_service.gateway.name
}
