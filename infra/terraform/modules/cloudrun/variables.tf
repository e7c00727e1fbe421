variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Region of the service."
  type        = string
}

variable "env" {
  description = "dev, staging or prod."
  type        = string
}

variable "image" {
  description = "mcpgw image, pinned by digest (<repo>/mcpgw@sha256:...)."
  type        = string
}

variable "opa_image" {
  description = "OPA sidecar image."
  type        = string
  default     = "openpolicyagent/opa:1.4.2"
}

variable "cloud_sql_proxy_image" {
  description = "Cloud SQL Auth Proxy sidecar image."
  type        = string
  default     = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.3"
}

variable "service_account" {
  description = "Runtime service account email."
  type        = string
}

variable "network_id" {
  description = "VPC for Direct VPC egress."
  type        = string
}

variable "subnet_id" {
  description = "Subnet for Direct VPC egress."
  type        = string
}

variable "sql_connection_name" {
  description = "project:region:instance of the Cloud SQL instance."
  type        = string
}

variable "opa_config_secret_id" {
  description = "Secret Manager secret with the OPA sidecar configuration."
  type        = string
}

variable "gateway_env" {
  description = "Environment of the gateway container (OAUTH_*, GATEWAY_*, HISTORY_DB_DSN...)."
  type        = map(string)
}

variable "min_instances" {
  description = "Instances kept warm (sessions live in memory: see docs/deployment.md)."
  type        = number
  default     = 1
}

variable "max_instances" {
  description = "Upper bound of instances."
  type        = number
  default     = 4
}

variable "deletion_protection" {
  description = "Refuse to delete the service."
  type        = bool
  default     = true
}
