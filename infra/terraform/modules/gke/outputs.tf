output "cluster_name" {
  description = "Name of the Autopilot cluster."
  value       = google_container_cluster.autopilot.name
}

output "endpoint" {
  description = "Control plane endpoint."
  value       = google_container_cluster.autopilot.endpoint
  sensitive   = true
}

output "workload_pool" {
  description = "Workload Identity pool of the cluster."
  value       = "${var.project_id}.svc.id.goog"
}
