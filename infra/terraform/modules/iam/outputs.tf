output "runtime_service_account" {
  description = "Email of the gateway's runtime service account."
  value       = google_service_account.runtime.email
}

output "deployer_service_account" {
  description = "Email of the CI deployer service account."
  value       = google_service_account.deployer.email
}

output "terraform_service_account" {
  description = "Email of the CI Terraform service account."
  value       = google_service_account.terraform.email
}

output "workload_identity_provider" {
  description = "Full name of the GitHub OIDC provider, for google-github-actions/auth."
  value       = google_iam_workload_identity_pool_provider.github.name
}
