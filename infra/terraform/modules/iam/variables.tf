variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "env" {
  description = "dev, staging or prod."
  type        = string
}

variable "k8s_namespace" {
  description = "Namespace of the gateway's Kubernetes service account (Workload Identity)."
  type        = string
}

variable "k8s_service_account" {
  description = "Name of the gateway's Kubernetes service account."
  type        = string
  default     = "mcpgw"
}

variable "workload_identity_pool" {
  description = "Id of the workload identity pool for GitHub Actions (TF_VAR_workload_identity_pool)."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose workflows may deploy."
  type        = string
}

variable "gke_workload_pool" {
  description = "Workload Identity pool of the GKE cluster (<project>.svc.id.goog); null when the gateway runs on Cloud Run."
  type        = string
  default     = null
}
