variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "env" {
  description = "dev, staging or prod."
  type        = string
}

variable "accessors" {
  description = "Members that may read the secrets' values (the runtime service account)."
  type        = list(string)
}

variable "opa_config" {
  description = "OPA configuration (not secret) for the Cloud Run sidecar, which mounts it from Secret Manager."
  type        = string
}
