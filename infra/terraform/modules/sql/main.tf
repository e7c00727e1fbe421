# Cloud SQL for PostgreSQL 15: private IP only (private service access), TLS required for every
# connection, IAM database authentication for the workloads (no passwords in the gateway),
# daily backups, point-in-time recovery where asked (prod).

resource "google_sql_database_instance" "postgres" {
  project             = var.project_id
  name                = "mcpgw-${var.env}"
  region              = var.region
  database_version    = "POSTGRES_15"
  deletion_protection = var.deletion_protection

  settings {
    tier                        = var.tier
    edition                     = "ENTERPRISE"
    availability_type           = var.high_availability ? "REGIONAL" : "ZONAL"
    disk_type                   = "PD_SSD"
    disk_autoresize             = true
    deletion_protection_enabled = var.deletion_protection

    ip_configuration {
      ipv4_enabled                                  = false
      private_network                               = var.network_id
      ssl_mode                                      = "ENCRYPTED_ONLY"
      enable_private_path_for_google_cloud_services = true
    }

    backup_configuration {
      enabled                        = true
      start_time                     = "02:00"
      point_in_time_recovery_enabled = var.point_in_time_recovery
      transaction_log_retention_days = var.point_in_time_recovery ? 7 : 1

      backup_retention_settings {
        retained_backups = var.backup_retention_count
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day          = 7
      hour         = 3
      update_track = "stable"
    }

    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }

    insights_config {
      query_insights_enabled = true
    }

    user_labels = {
      app = "mcpgw"
      env = var.env
    }
  }
}

resource "google_sql_database" "mcp" {
  project  = var.project_id
  name     = "mcp"
  instance = google_sql_database_instance.postgres.name
}

# IAM users: the database user name is the service account email without ".gserviceaccount.com".
resource "google_sql_user" "iam" {
  for_each = toset(var.iam_users)

  project  = var.project_id
  instance = google_sql_database_instance.postgres.name
  name     = trimsuffix(each.value, ".gserviceaccount.com")
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}
