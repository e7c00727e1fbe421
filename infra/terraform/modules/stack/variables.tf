# Every input is required: envs/<env>/variables.tf holds the defaults (and the TF_VAR_* names),
# envs/<env>/main.tf the protection knobs, so no value is decided here behind an environment's back.

# ---- Protection knobs (per environment) ----

variable "deletion_protection" {
  description = "Refuse to delete the GKE cluster, the Cloud SQL instance and the Cloud Run service."
  type        = bool
}

variable "force_destroy" {
  description = "Let terraform destroy delete the buckets with their objects."
  type        = bool
}

variable "sql_high_availability" {
  description = "Cloud SQL REGIONAL availability (a standby in another zone)."
  type        = bool
}

variable "sql_point_in_time_recovery" {
  description = "Cloud SQL point-in-time recovery (write-ahead logs kept 7 days)."
  type        = bool
}

variable "cloudrun_min_instances" {
  description = "Cloud Run instances kept warm (runtime cloudrun)."
  type        = number
}

# ---- The environment's variables, passed through ----

variable "project_id" {
  description = "GCP project of the environment."
  type        = string
}

variable "region" {
  description = "Region for everything regional."
  type        = string
}

variable "env" {
  description = "dev, staging or prod."
  type        = string
}

variable "network_cidr" {
  description = "Primary range of the workload subnet."
  type        = string
}

variable "subnet_cidrs" {
  description = "Secondary ranges (pods, services) and the Cloud Run egress subnet."
  type = object({
    pods     = string
    services = string
    run      = string
  })
}

variable "sql_instance_tier" {
  description = "Cloud SQL machine tier."
  type        = string
}

variable "workload_identity_pool" {
  description = "Workload identity pool id for GitHub Actions OIDC."
  type        = string
}

variable "opa_policy_bucket" {
  description = "Name of the OPA bundle bucket."
  type        = string
}

variable "artifact_registry_repo" {
  description = "Artifact Registry repository id."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the repository whose workflows deploy here."
  type        = string
}

variable "runtime" {
  description = "gke or cloudrun."
  type        = string

  validation {
    condition     = contains(["gke", "cloudrun"], var.runtime)
    error_message = "runtime must be gke or cloudrun."
  }
}

variable "image" {
  description = "mcpgw image by digest (runtime cloudrun)."
  type        = string
}

variable "public_host" {
  description = "Public host name of the gateway."
  type        = string
}

variable "oauth_issuer" {
  description = "Issuer URL of the identity provider."
  type        = string
}

variable "gke_master_authorized_cidrs" {
  description = "CIDRs allowed to reach the GKE control plane."
  type        = list(string)
}

variable "bundle_path" {
  description = "OPA policy bundle to publish; empty to skip."
  type        = string
}

variable "emergency_bundle_path" {
  description = "Initial emergency bundle to publish; empty to skip."
  type        = string
}
