# Environment-specific behaviour and variable validation.

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
  vpc_id                = "vpc-0123456789abcdef0"
  database_subnet_ids   = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  app_security_group_id = "sg-0123456789abcdef0"
  eks_oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
}

run "dev_saves_cost_but_keeps_encryption" {
  command = plan

  variables {
    environment = "dev"
  }

  assert {
    condition     = !module.database.multi_az_enabled && !module.database.deletion_protected
    error_message = "dev runs a single-zone database that can be deleted"
  }
  assert {
    condition     = module.database.storage_encrypted
    error_message = "dev is encrypted too"
  }
}

run "unknown_environment_is_refused" {
  command = plan

  variables {
    environment = "production"
  }

  expect_failures = [var.environment]
}

run "one_subnet_is_refused" {
  command = plan

  variables {
    environment         = "stage"
    database_subnet_ids = ["subnet-0123456789abcdef0"]
  }

  expect_failures = [var.database_subnet_ids]
}

run "short_backup_retention_is_refused" {
  command = plan

  variables {
    environment              = "stage"
    db_backup_retention_days = 1
  }

  expect_failures = [var.db_backup_retention_days]
}
