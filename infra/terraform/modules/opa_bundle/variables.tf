variable "bucket" {
  description = "OPA bundle bucket."
  type        = string
}

variable "bundle_path" {
  description = "Local path of the policy bundle built by `make bundle` (build/opa/bundle.tar.gz)."
  type        = string
}

variable "emergency_bundle_path" {
  description = "Local path of the initial emergency bundle (build/opa/emergency.tar.gz); empty to skip."
  type        = string
  default     = ""
}

variable "object_name" {
  description = "Object name of the policy bundle; OPA's bundle resource is this name URL-encoded."
  type        = string
  default     = "bundles/mcp/bundle.tar.gz"
}

variable "emergency_object_name" {
  description = "Object name of the emergency bundle."
  type        = string
  default     = "bundles/emergency/bundle.tar.gz"
}
