# One customer-managed key per purpose, so revoking or auditing one never touches the others.
# Rotation is on for every key; the policy keeps administration with the account and lets the
# CloudWatch alarms service use the alarm topic's key.

variable "prefix" {
  description = "Name prefix, such as reportgen-prod."
  type        = string
}

variable "account_id" {
  description = "AWS account that owns the keys."
  type        = string
}

variable "partition" {
  description = "AWS partition (aws, aws-us-gov, aws-cn)."
  type        = string
}

variable "region" {
  description = "Region of the keys."
  type        = string
}

locals {
  purposes = toset(["artifacts", "database", "secrets", "ecr", "alarms"])
}

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_111:A key policy is attached to one key; its "*" resource means that key only, and write access is limited to the owning account's IAM.
  # checkov:skip=CKV_AWS_356:Same reason: in a KMS key policy the resource "*" is the key the policy belongs to.
  # checkov:skip=CKV_AWS_109:The account-root statement delegates key administration to the account's IAM policies, as AWS requires so the key can never become unmanageable.
  for_each = local.purposes

  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy "*" means this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${var.partition}:iam::${var.account_id}:root"]
    }
  }

  dynamic "statement" {
    for_each = each.key == "alarms" ? [1] : []
    content {
      sid       = "CloudWatchPublishesEncryptedAlarms"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = ["cloudwatch.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [var.account_id]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  for_each = local.purposes

  description             = "${var.prefix} ${each.key}"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key[each.key].json
}

resource "aws_kms_alias" "this" {
  for_each = local.purposes

  name          = "alias/${var.prefix}-${each.key}"
  target_key_id = aws_kms_key.this[each.key].key_id
}

output "key_arns" {
  description = "Key ARN by purpose."
  value       = { for purpose, key in aws_kms_key.this : purpose => key.arn }
}

output "rotation_enabled" {
  description = "Whether each key rotates, by purpose (read back by the terraform tests)."
  value       = { for purpose, key in aws_kms_key.this : purpose => key.enable_key_rotation }
}
