output "network_id" {
  description = "Self link id of the VPC."
  value       = google_compute_network.vpc.id
}

output "network_name" {
  description = "Name of the VPC."
  value       = google_compute_network.vpc.name
}

output "workloads_subnet_id" {
  description = "Subnet of the GKE nodes."
  value       = google_compute_subnetwork.workloads.id
}

output "run_subnet_id" {
  description = "Subnet of Cloud Run's Direct VPC egress."
  value       = google_compute_subnetwork.run.id
}

output "pods_range_name" {
  description = "Secondary range for pods."
  value       = "pods"
}

output "services_range_name" {
  description = "Secondary range for services."
  value       = "services"
}

output "private_services_connection" {
  description = "The private service access peering; Cloud SQL waits for it."
  value       = google_service_networking_connection.private_services.id
}
