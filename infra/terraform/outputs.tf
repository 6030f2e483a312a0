output "artifacts_url" {
  description = "REPORTGEN_ARTIFACTS_URL for the Helm values."
  value       = "s3://${module.artifacts.bucket_name}/artifacts"
}

output "artifacts_kms_key_arn" {
  description = "REPORTGEN_S3_KMS_KEY_ID for the Helm values."
  value       = module.kms.key_arns["artifacts"]
}

output "app_role_arn" {
  description = "IRSA role: the eks.amazonaws.com/role-arn annotation of the chart's service account."
  value       = module.irsa.role_arn
}

output "app_secret_arn" {
  description = "Secrets Manager secret the chart's SecretProviderClass reads (secrets.csi.secretName)."
  value       = module.secrets.secret_arn
}

output "database_endpoint" {
  description = "host:port of the metadata database, for REPORTGEN_DATABASE_URL."
  value       = module.database.endpoint
}

output "database_master_secret_arn" {
  description = "Secrets Manager secret RDS manages for the master user's password."
  value       = module.database.master_secret_arn
}

output "ecr_repository_url" {
  description = "Image repository the pipeline pushes to and the chart pulls from."
  value       = module.ecr.repository_url
}

output "alarm_topic_arn" {
  description = "SNS topic CloudWatch alarms publish to; subscribe the paging integration."
  value       = module.alarms.topic_arn
}
