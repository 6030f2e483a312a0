terraform {
  required_version = ">= 1.7.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80.0, < 6.0.0"
    }
  }

  # Partial configuration: the bucket, key, region and lock table come from
  # envs/backend-<env>.hcl at `terraform init -backend-config=...` (README.md).
  backend "s3" {}
}
