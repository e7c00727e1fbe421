variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Region of the Autopilot cluster."
  type        = string
}

variable "env" {
  description = "dev, staging or prod."
  type        = string
}

variable "network_id" {
  description = "VPC id."
  type        = string
}

variable "subnet_id" {
  description = "Workload subnet id."
  type        = string
}

variable "pods_range_name" {
  description = "Secondary range name for pods."
  type        = string
}

variable "services_range_name" {
  description = "Secondary range name for services."
  type        = string
}

variable "master_authorized_cidrs" {
  description = "CIDR blocks allowed to reach the control plane (CI runners, operators)."
  type        = list(string)
  default     = []
}

variable "release_channel" {
  description = "GKE release channel."
  type        = string
  default     = "REGULAR"
}

variable "deletion_protection" {
  description = "Refuse to destroy the cluster."
  type        = bool
  default     = true
}
