variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Bucket location."
  type        = string
}

variable "env" {
  description = "dev, staging or prod."
  type        = string
}

variable "opa_policy_bucket" {
  description = "Name of the OPA bundle bucket (TF_VAR_opa_policy_bucket)."
  type        = string
}

variable "log_retention_days" {
  description = "Age after which exported logs and history exports are deleted."
  type        = number
  default     = 365
}

variable "bundle_readers" {
  description = "Members that may read the OPA bundle (the runtime service account)."
  type        = list(string)
  default     = []
}

variable "bundle_writers" {
  description = "Members that may publish the OPA bundle (the CI deployer)."
  type        = list(string)
  default     = []
}

variable "force_destroy" {
  description = "Allow destroying non-empty buckets (dev only)."
  type        = bool
  default     = false
}
