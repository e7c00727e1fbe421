# Every variable can be set as TF_VAR_<name> (the requirements' names: project_id, region, env,
# network_cidr, subnet_cidrs, sql_instance_tier, workload_identity_pool, opa_policy_bucket,
# artifact_registry_repo).

variable "project_id" {
  description = "GCP project of the dev environment."
  type        = string
}

variable "region" {
  description = "Region for everything regional."
  type        = string
  default     = "europe-west1"
}

variable "env" {
  description = "Environment name."
  type        = string
  default     = "dev"

  validation {
    condition     = var.env == "dev"
    error_message = "This directory is the dev environment."
  }
}

variable "network_cidr" {
  description = "Primary range of the workload subnet."
  type        = string
  default     = "10.10.0.0/20"
}

variable "subnet_cidrs" {
  description = "Secondary ranges (pods, services) and the Cloud Run egress subnet."
  type = object({
    pods     = string
    services = string
    run      = string
  })
  default = {
    pods     = "10.12.0.0/16"
    services = "10.13.0.0/20"
    run      = "10.10.16.0/24"
  }
}

variable "sql_instance_tier" {
  description = "Cloud SQL machine tier."
  type        = string
  default     = "db-custom-1-3840"
}

variable "workload_identity_pool" {
  description = "Workload identity pool id for GitHub Actions OIDC."
  type        = string
  default     = "github-actions"
}

variable "opa_policy_bucket" {
  description = "Name of the OPA bundle bucket (globally unique)."
  type        = string
}

variable "artifact_registry_repo" {
  description = "Artifact Registry repository id."
  type        = string
  default     = "mcpgw"
}

variable "github_repository" {
  description = "owner/name of the repository whose workflows deploy here."
  type        = string
}

variable "runtime" {
  description = "Where the gateway runs: gke (Autopilot + deploy/k8s) or cloudrun."
  type        = string
  default     = "gke" # checked by modules/stack
}

variable "image" {
  description = "mcpgw image by digest, for Cloud Run (GKE gets it from the deploy workflow)."
  type        = string
  default     = ""
}

variable "public_host" {
  description = "Public host name of the gateway (OAuth audience https://<host>/mcp)."
  type        = string
}

variable "oauth_issuer" {
  description = "Issuer URL of the identity provider."
  type        = string
}

variable "gke_master_authorized_cidrs" {
  description = "CIDRs allowed to reach the GKE control plane."
  type        = list(string)
  default     = []
}

variable "bundle_path" {
  description = "OPA policy bundle built by make bundle (build/opa/bundle.tar.gz); empty to skip publishing."
  type        = string
  default     = ""
}

variable "emergency_bundle_path" {
  description = "Initial emergency bundle (build/opa/emergency.tar.gz); published once, then owned by operators."
  type        = string
  default     = ""
}
