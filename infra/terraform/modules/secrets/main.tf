# The application's secret: one JSON object whose keys the Helm chart's SecretProviderClass maps
# to files and Secret keys (database-url, cookie-key, mask-key, audit-key, warehouse-password,
# smtp-password, webhook-key, written with underscores). Terraform creates the container only:
# values are put by an operator (docs/sops/key-rotation.md), so they never enter Terraform state.

variable "prefix" {
  description = "Name prefix, such as reportgen-prod."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting the secret."
  type        = string
}

resource "aws_secretsmanager_secret" "app" {
  # checkov:skip=CKV2_AWS_57:The keys inside are application keys (cookie, mask, audit HMAC) whose rotation needs a coordinated re-key; it follows docs/sops/key-rotation.md on a schedule instead of a rotation Lambda.
  name                    = "${var.prefix}/app"
  description             = "reportgen application secrets (JSON object)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 30
}

output "secret_arn" {
  description = "ARN of the application secret."
  value       = aws_secretsmanager_secret.app.arn
}
