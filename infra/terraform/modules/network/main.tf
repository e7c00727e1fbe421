# VPC with one workload subnet (secondary ranges for GKE pods and services), a subnet for Cloud
# Run's Direct VPC egress, Cloud Router + Cloud NAT for egress without public node IPs, and the
# private service access range that gives Cloud SQL a private IP.

resource "google_compute_network" "vpc" {
  project                 = var.project_id
  name                    = "mcpgw-${var.env}"
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "workloads" {
  project                  = var.project_id
  name                     = "mcpgw-${var.env}-workloads"
  region                   = var.region
  network                  = google_compute_network.vpc.id
  ip_cidr_range            = var.network_cidr
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = var.subnet_cidrs.pods
  }

  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = var.subnet_cidrs.services
  }

  log_config {
    aggregation_interval = "INTERVAL_5_SEC"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_subnetwork" "run" {
  project                  = var.project_id
  name                     = "mcpgw-${var.env}-run"
  region                   = var.region
  network                  = google_compute_network.vpc.id
  ip_cidr_range            = var.subnet_cidrs.run
  private_ip_google_access = true
}

resource "google_compute_router" "router" {
  project = var.project_id
  name    = "mcpgw-${var.env}-router"
  region  = var.region
  network = google_compute_network.vpc.id
}

resource "google_compute_router_nat" "nat" {
  project                            = var.project_id
  name                               = "mcpgw-${var.env}-nat"
  region                             = var.region
  router                             = google_compute_router.router.name
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

resource "google_compute_global_address" "private_services" {
  project       = var.project_id
  name          = "mcpgw-${var.env}-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = var.private_service_prefix_length
  network       = google_compute_network.vpc.id
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.vpc.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
}
