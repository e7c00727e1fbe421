variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Location of the repository."
  type        = string
}

variable "repository_id" {
  description = "Repository name (TF_VAR_artifact_registry_repo)."
  type        = string
}

variable "writers" {
  description = "Members allowed to push (the CI service account)."
  type        = list(string)
  default     = []
}

variable "readers" {
  description = "Members allowed to pull (the runtime service account)."
  type        = list(string)
  default     = []
}
