# The metadata database: PostgreSQL on RDS, private, encrypted with a customer key, TLS enforced,
# automated backups with point-in-time recovery, logs to CloudWatch. Production adds Multi-AZ
# and deletion protection. RDS keeps the master password in Secrets Manager itself.

variable "prefix" {
  description = "Name prefix, such as reportgen-prod."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in two or more zones."
  type        = list(string)
}

variable "app_security_group_id" {
  description = "Security group allowed to connect on 5432."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key for storage, Performance Insights and the master secret."
  type        = string
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "allocated_storage_gb" {
  description = "Initial storage in GiB."
  type        = number
}

variable "backup_retention_days" {
  description = "Days of automated backups."
  type        = number
}

variable "multi_az" {
  description = "Standby in a second zone (production)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (production)."
  type        = bool
  default     = true
}

resource "aws_db_subnet_group" "this" {
  name       = "${var.prefix}-metadata"
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "db" {
  name        = "${var.prefix}-metadata-db"
  description = "PostgreSQL for reportgen metadata: reachable from the app only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "from_app" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the reportgen pods"
  referenced_security_group_id = var.app_security_group_id
  from_port                    = 5432
  to_port                      = 5432
  ip_protocol                  = "tcp"
}

resource "aws_db_parameter_group" "this" {
  name   = "${var.prefix}-metadata-pg16"
  family = "postgres16"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_connections"
    value = "1"
  }
  parameter {
    name  = "log_disconnections"
    value = "1"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
  parameter {
    name  = "log_statement"
    value = "ddl"
  }
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.prefix}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  # checkov:skip=CKV_AWS_157:Multi-AZ is on in prod (var.multi_az = local.production, asserted by tests/defaults.tftest.hcl); dev and stage run one zone for cost.
  # checkov:skip=CKV_AWS_293:Deletion protection is on in prod (asserted by tests/defaults.tftest.hcl); dev and stage are rebuilt freely.
  identifier     = "${var.prefix}-metadata"
  engine         = "postgres"
  engine_version = "16"
  instance_class = var.instance_class
  db_name        = "reportgen"
  username       = "reportgen_admin"
  port           = 5432

  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.allocated_storage_gb * 5
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name

  multi_az                            = var.multi_az
  deletion_protection                 = var.deletion_protection
  backup_retention_period             = var.backup_retention_days
  backup_window                       = "02:00-03:00"
  maintenance_window                  = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot               = true
  delete_automated_backups            = false
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${var.prefix}-metadata-final"
  auto_minor_version_upgrade          = true
  iam_database_authentication_enabled = true

  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7
}

output "instance_identifier" {
  description = "RDS instance identifier (CloudWatch alarm dimension)."
  value       = aws_db_instance.this.identifier
}

output "endpoint" {
  description = "host:port of the database."
  value       = aws_db_instance.this.endpoint
}

output "master_secret_arn" {
  description = "Secrets Manager secret holding the master user's password, managed by RDS."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

# Read back by the terraform tests (tests/*.tftest.hcl) and the compliance evidence.
output "multi_az_enabled" {
  description = "Whether the instance has a standby in a second zone."
  value       = aws_db_instance.this.multi_az
}

output "deletion_protected" {
  description = "Whether deleting the instance is refused."
  value       = aws_db_instance.this.deletion_protection
}

output "storage_encrypted" {
  description = "Whether storage is encrypted."
  value       = aws_db_instance.this.storage_encrypted
}

output "publicly_accessible" {
  description = "Whether the instance has a public address."
  value       = aws_db_instance.this.publicly_accessible
}

output "backup_retention_days" {
  description = "Days of automated backups."
  value       = aws_db_instance.this.backup_retention_period
}
