# State in GCS, one prefix per environment. The bucket is given at init time:
#   make tf-init ENV=prod TF_STATE_BUCKET=<bucket>   (terraform init -backend-config=bucket=...)
terraform {
  backend "gcs" {
    prefix = "mcpgw/prod"
  }
}
