# Plans the whole stack against a mocked AWS provider (no credentials, no network) and checks the
# controls the docs promise: docs/compliance/controls.md points at these runs.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  environment           = "prod"
  vpc_id                = "vpc-0123456789abcdef0"
  database_subnet_ids   = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  app_security_group_id = "sg-0123456789abcdef0"
  eks_oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
}

run "production_database_is_resilient" {
  command = plan

  assert {
    condition     = module.database.multi_az_enabled && module.database.deletion_protected
    error_message = "prod must run the metadata DB Multi-AZ with deletion protection"
  }
  assert {
    condition     = module.database.storage_encrypted && !module.database.publicly_accessible
    error_message = "the metadata DB must be encrypted and private"
  }
  assert {
    condition     = module.database.backup_retention_days >= 7
    error_message = "automated backups must cover at least a week"
  }
}

run "artifact_bucket_is_locked_down" {
  command = plan

  assert {
    condition     = alltrue([for b in module.artifacts.public_access_blocks : b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets])
    error_message = "public access must be blocked on the artifact and log buckets"
  }
  assert {
    condition     = alltrue([for v in module.artifacts.versioning_statuses : v == "Enabled"])
    error_message = "both buckets must be versioned"
  }
  assert {
    condition     = module.artifacts.sse_algorithm == "aws:kms"
    error_message = "artifacts must be encrypted with SSE-KMS"
  }
  assert {
    condition     = module.artifacts.access_log_prefix == "s3-access/"
    error_message = "artifact bucket access must be logged"
  }
}

run "keys_rotate_and_images_are_immutable" {
  command = plan

  assert {
    condition     = alltrue(values(module.kms.rotation_enabled))
    error_message = "every KMS key must rotate"
  }
  assert {
    condition     = length(module.kms.rotation_enabled) == 5
    error_message = "one key per purpose: artifacts, database, secrets, ecr, alarms"
  }
  assert {
    condition     = module.ecr.immutable_tags && module.ecr.scan_on_push
    error_message = "ECR must have immutable tags and scan on push"
  }
}

run "app_role_trusts_only_the_service_account" {
  command = plan

  assert {
    condition     = module.irsa.trusted_subject == "system:serviceaccount:reportgen:reportgen"
    error_message = "the IRSA role must trust exactly the chart's service account"
  }
}
