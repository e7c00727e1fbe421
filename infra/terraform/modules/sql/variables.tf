variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Region of the instance."
  type        = string
}

variable "env" {
  description = "dev, staging or prod."
  type        = string
}

variable "network_id" {
  description = "VPC whose private service access range gives the instance its private IP."
  type        = string
}

variable "tier" {
  description = "Machine tier, e.g. db-custom-1-3840."
  type        = string
}

variable "high_availability" {
  description = "REGIONAL availability (a standby in another zone)."
  type        = bool
  default     = false
}

variable "point_in_time_recovery" {
  description = "Keep write-ahead logs for point-in-time recovery."
  type        = bool
  default     = false
}

variable "backup_retention_count" {
  description = "Daily backups kept."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (Terraform and API)."
  type        = bool
  default     = true
}

variable "iam_users" {
  description = "Service account emails that log in with IAM database authentication."
  type        = list(string)
  default     = []
}
