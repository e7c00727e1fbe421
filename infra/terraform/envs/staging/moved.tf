# State addresses from before the environment became a call of modules/stack: existing objects
# move into module.stack instead of being destroyed and recreated. Keep until every state has
# been applied with this layout (removing a moved block is a breaking change for older states).

moved {
  from = google_project_service.apis
  to   = module.stack.google_project_service.apis
}

moved {
  from = module.network
  to   = module.stack.module.network
}

moved {
  from = module.gke
  to   = module.stack.module.gke
}

moved {
  from = module.iam
  to   = module.stack.module.iam
}

moved {
  from = module.artifact_registry
  to   = module.stack.module.artifact_registry
}

moved {
  from = module.secrets
  to   = module.stack.module.secrets
}

moved {
  from = module.storage
  to   = module.stack.module.storage
}

moved {
  from = module.sql
  to   = module.stack.module.sql
}

moved {
  from = module.cloudrun
  to   = module.stack.module.cloudrun
}

moved {
  from = module.opa_bundle
  to   = module.stack.module.opa_bundle
}
