output "secret_ids" {
  description = "Secret ids by purpose."
  value       = { for k, s in google_secret_manager_secret.secret : k => s.secret_id }
}

output "opa_config_secret_id" {
  description = "Secret holding the OPA sidecar configuration (Cloud Run)."
  value       = google_secret_manager_secret.opa_config.secret_id
}
