# CloudWatch alarms on the AWS side of the deployment, published to an encrypted SNS topic.
# Application alerts (latency, 5xx, queue, dead letters, leader) live in Prometheus:
# infra/observability/alerts.yml.

variable "prefix" {
  description = "Name prefix, such as reportgen-prod."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting the topic."
  type        = string
}

variable "db_instance_identifier" {
  description = "RDS instance to watch."
  type        = string
}

variable "db_allocated_storage" {
  description = "Allocated storage in GiB (the free-space alarm fires under 10%)."
  type        = number
}

variable "emails" {
  description = "Addresses subscribed to the topic."
  type        = list(string)
  default     = []
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.prefix}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  db_alarms = {
    cpu-high = {
      metric    = "CPUUtilization"
      operator  = "GreaterThanThreshold"
      threshold = 80
      statistic = "Average"
      text      = "Metadata DB CPU above 80% for 15 minutes"
    }
    free-storage-low = {
      metric    = "FreeStorageSpace"
      operator  = "LessThanThreshold"
      threshold = var.db_allocated_storage * 1073741824 * 0.1
      statistic = "Minimum"
      text      = "Metadata DB free storage under 10%"
    }
    connections-high = {
      metric    = "DatabaseConnections"
      operator  = "GreaterThanThreshold"
      threshold = 150
      statistic = "Maximum"
      text      = "Metadata DB connections above 150"
    }
    freeable-memory-low = {
      metric    = "FreeableMemory"
      operator  = "LessThanThreshold"
      threshold = 268435456
      statistic = "Minimum"
      text      = "Metadata DB freeable memory under 256 MiB"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "db" {
  for_each = local.db_alarms

  alarm_name          = "${var.prefix}-db-${each.key}"
  alarm_description   = "${each.value.text}. Runbook: docs/operations/runbook.md"
  namespace           = "AWS/RDS"
  metric_name         = each.value.metric
  dimensions          = { DBInstanceIdentifier = var.db_instance_identifier }
  statistic           = each.value.statistic
  comparison_operator = each.value.operator
  threshold           = each.value.threshold
  period              = 300
  evaluation_periods  = 3
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

output "topic_arn" {
  description = "ARN of the alarm topic."
  value       = aws_sns_topic.alarms.arn
}
