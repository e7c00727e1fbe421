variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Region of the subnets, router and NAT."
  type        = string
}

variable "env" {
  description = "dev, staging or prod; part of every name."
  type        = string
}

variable "network_cidr" {
  description = "Primary range of the workload subnet (GKE nodes)."
  type        = string
}

variable "subnet_cidrs" {
  description = "Secondary ranges of the workload subnet (pods, services) and the Cloud Run Direct VPC egress subnet."
  type = object({
    pods     = string
    services = string
    run      = string
  })
}

variable "private_service_prefix_length" {
  description = "Size of the range reserved for private service access (Cloud SQL private IP)."
  type        = number
  default     = 20
}
