# The report artifact bucket and the bucket that receives its access logs. Both: versioned,
# encrypted, public access blocked, TLS only. Artifacts use SSE-KMS with a customer key; the log
# bucket uses SSE-S3, the only encryption S3 server access logging delivers to.

variable "prefix" {
  description = "Name prefix, such as reportgen-prod."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key for SSE-KMS."
  type        = string
}

variable "retention_days" {
  description = "Days before current artifact versions expire."
  type        = number
}

variable "force_destroy" {
  description = "Allow destroying a non-empty bucket (never for real environments)."
  type        = bool
  default     = false
}

resource "aws_s3_bucket" "artifacts" {
  # checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice per organisation; versioning plus RDS snapshots meet the RPO of docs/sops/backup-restore.md in-region.
  # checkov:skip=CKV2_AWS_62:Nothing consumes bucket events; the app records every artifact in the metadata DB itself.
  bucket        = "${var.prefix}-artifacts"
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket" "logs" {
  # checkov:skip=CKV_AWS_144:Access logs stay in-region with the bucket they describe.
  # checkov:skip=CKV2_AWS_62:Access logs are read by the SIEM's poller, not by event notifications.
  # checkov:skip=CKV_AWS_145:S3 server access logging can only deliver to SSE-S3 buckets, not SSE-KMS.
  # checkov:skip=CKV_AWS_18:This is the access-log bucket itself; logging it to itself would loop.
  bucket        = "${var.prefix}-artifacts-logs"
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = { artifacts = aws_s3_bucket.artifacts.id, logs = aws_s3_bucket.logs.id }

  bucket                  = each.value
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = { artifacts = aws_s3_bucket.artifacts.id, logs = aws_s3_bucket.logs.id }

  bucket = each.value
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = { artifacts = aws_s3_bucket.artifacts.id, logs = aws_s3_bucket.logs.id }

  bucket = each.value
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_logging" "artifacts" {
  bucket        = aws_s3_bucket.artifacts.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3-access/"
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    id     = "expire-artifacts"
    status = "Enabled"
    filter {}
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    expiration {
      days = var.retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = 365
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = { artifacts = aws_s3_bucket.artifacts.arn, logs = aws_s3_bucket.logs.arn }

  statement {
    sid       = "DenyPlainHttp"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value, "${each.value}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = { artifacts = aws_s3_bucket.artifacts.id, logs = aws_s3_bucket.logs.id }

  bucket = each.value
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

output "bucket_name" {
  description = "Name of the artifact bucket."
  value       = aws_s3_bucket.artifacts.bucket
}

output "bucket_arn" {
  description = "ARN of the artifact bucket."
  value       = aws_s3_bucket.artifacts.arn
}

# Read back by the terraform tests (tests/*.tftest.hcl) and the compliance evidence.
output "public_access_blocks" {
  description = "Public access block settings of both buckets."
  value       = aws_s3_bucket_public_access_block.this
}

output "versioning_statuses" {
  description = "Versioning status of both buckets."
  value       = [for v in aws_s3_bucket_versioning.this : one(v.versioning_configuration).status]
}

output "sse_algorithm" {
  description = "Default encryption of the artifact bucket."
  value       = one(one(aws_s3_bucket_server_side_encryption_configuration.artifacts.rule).apply_server_side_encryption_by_default).sse_algorithm
}

output "access_log_prefix" {
  description = "Prefix the artifact bucket's access logs are written under."
  value       = aws_s3_bucket_logging.artifacts.target_prefix
}
