# GKE Autopilot with private nodes (no public node IPs; egress through Cloud NAT) and Workload
# Identity (always on in Autopilot; the pool is set explicitly for clarity). The control plane is
# reached through its DNS endpoint, authorized by IAM (CI's deployer uses it from GitHub-hosted
# runners, whose addresses are not known in advance); the IP endpoint only from
# master_authorized_cidrs.

resource "google_container_cluster" "autopilot" {
  project             = var.project_id
  name                = "mcpgw-${var.env}"
  location            = var.region
  enable_autopilot    = true
  network             = var.network_id
  subnetwork          = var.subnet_id
  deletion_protection = var.deletion_protection

  ip_allocation_policy {
    cluster_secondary_range_name  = var.pods_range_name
    services_secondary_range_name = var.services_range_name
  }

  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = false
  }

  control_plane_endpoints_config {
    dns_endpoint_config {
      allow_external_traffic = true
    }
  }

  master_authorized_networks_config {
    dynamic "cidr_blocks" {
      for_each = var.master_authorized_cidrs
      content {
        cidr_block   = cidr_blocks.value
        display_name = "authorized-${cidr_blocks.key}"
      }
    }
  }

  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }

  release_channel {
    channel = var.release_channel
  }
}
