# The gateway on Cloud Run (v2 API): mcpgw + an OPA sidecar + the Cloud SQL Auth Proxy sidecar
# (IAM database login over the private IP), Direct VPC egress for private ranges, session
# affinity (best effort: see docs/deployment.md). The gateway authenticates every MCP request
# itself (OAuth), so Cloud Run's invoker IAM check is off instead of granting allUsers.

resource "google_cloud_run_v2_service" "gateway" {
  project              = var.project_id
  name                 = "mcpgw-${var.env}"
  location             = var.region
  ingress              = "INGRESS_TRAFFIC_ALL"
  invoker_iam_disabled = true
  deletion_protection  = var.deletion_protection

  template {
    service_account                  = var.service_account
    session_affinity                 = true
    timeout                          = "3600s"
    max_instance_request_concurrency = 80
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = var.network_id
        subnetwork = var.subnet_id
      }
    }

    containers {
      name       = "gateway"
      image      = var.image
      args       = ["serve", "--config", "/etc/mcpgw/gateway.yaml"]
      depends_on = ["opa", "cloud-sql-proxy"]

      ports {
        name           = "http1"
        container_port = 8080
      }

      dynamic "env" {
        for_each = var.gateway_env
        content {
          name  = env.key
          value = env.value
        }
      }

      resources {
        limits = {
          cpu    = "1"
          memory = "512Mi"
        }
        cpu_idle          = false
        startup_cpu_boost = true
      }

      startup_probe {
        period_seconds    = 2
        failure_threshold = 30
        http_get {
          path = "/health"
          port = 8080
        }
      }

      liveness_probe {
        period_seconds = 10
        http_get {
          path = "/health"
          port = 8080
        }
      }
    }

    containers {
      name  = "opa"
      image = var.opa_image
      args = [
        "run", "--server", "--addr=127.0.0.1:8181", "--diagnostic-addr=0.0.0.0:8282",
        "--config-file=/etc/opa/opa-config.yaml", "--log-format=json",
      ]

      resources {
        limits = {
          cpu    = "1"
          memory = "256Mi"
        }
      }

      startup_probe {
        period_seconds    = 2
        failure_threshold = 30
        http_get {
          path = "/health"
          port = 8282
        }
      }

      volume_mounts {
        name       = "opa-config"
        mount_path = "/etc/opa"
      }
    }

    containers {
      name  = "cloud-sql-proxy"
      image = var.cloud_sql_proxy_image
      args = [
        var.sql_connection_name, "--private-ip", "--auto-iam-authn", "--structured-logs",
        "--port=5432", "--health-check", "--http-address=0.0.0.0", "--http-port=9090",
      ]

      resources {
        limits = {
          cpu    = "1"
          memory = "256Mi"
        }
      }

      startup_probe {
        period_seconds    = 2
        failure_threshold = 30
        http_get {
          path = "/startup"
          port = 9090
        }
      }
    }

    volumes {
      name = "opa-config"
      secret {
        secret = var.opa_config_secret_id
        items {
          version = "latest"
          path    = "opa-config.yaml"
        }
      }
    }
  }

  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }
}
