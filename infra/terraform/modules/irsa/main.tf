# The role the reportgen pods assume through IRSA, trusted only by the chart's service account.
# It may read and write objects under the artifact bucket's two prefixes, use the two KMS keys
# for those objects and the secret, and read the one application secret. Nothing else.

variable "prefix" {
  description = "Name prefix, such as reportgen-prod."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the service account."
  type        = string
}

variable "service_account" {
  description = "Kubernetes service account name."
  type        = string
}

variable "bucket_arn" {
  description = "Artifact bucket ARN."
  type        = string
}

variable "kms_key_arns" {
  description = "Keys the app encrypts and decrypts with."
  type        = list(string)
}

variable "secret_arn" {
  description = "Application secret ARN."
  type        = string
}

locals {
  # arn:aws:iam::123456789012:oidc-provider/oidc.eks.REGION.amazonaws.com/id/XYZ -> the issuer.
  issuer  = element(split("oidc-provider/", var.oidc_provider_arn), 1)
  subject = "system:serviceaccount:${var.namespace}:${var.service_account}"
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = [local.subject]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "app" {
  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["artifacts/*", "deliveries/*"]
    }
  }

  statement {
    sid = "ReadWriteArtifacts"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:AbortMultipartUpload",
    ]
    resources = ["${var.bucket_arn}/artifacts/*", "${var.bucket_arn}/deliveries/*"]
  }

  statement {
    sid       = "UseDataKeys"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = var.kms_key_arns
  }

  statement {
    sid       = "ReadAppSecret"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [var.secret_arn]
  }
}

resource "aws_iam_role" "app" {
  name                 = "${var.prefix}-app"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "app" {
  name   = "${var.prefix}-app"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.app.json
}

output "role_arn" {
  description = "ARN of the IRSA role."
  value       = aws_iam_role.app.arn
}

output "trusted_subject" {
  description = "The one service account the role trusts (read back by the terraform tests)."
  value       = local.subject
}
