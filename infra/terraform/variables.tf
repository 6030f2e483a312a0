variable "environment" {
  description = "Deployment environment; also the Terraform workspace this state lives in."
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod"], var.environment)
    error_message = "environment must be dev, stage or prod."
  }
}

variable "region" {
  description = "AWS region of every resource."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "reportgen"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.name))
    error_message = "name must be 3-21 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the EKS cluster; the database is reachable only from inside it."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "database_subnet_ids" {
  description = "Private subnets (two or more zones) for the database."
  type        = list(string)

  validation {
    condition     = length(var.database_subnet_ids) >= 2 && alltrue([for s in var.database_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "database_subnet_ids needs at least two subnet-... ids in different zones."
  }
}

variable "app_security_group_id" {
  description = "Security group of the EKS nodes or pods allowed to reach PostgreSQL."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]{8,17}$", var.app_security_group_id))
    error_message = "app_security_group_id must look like sg-0123456789abcdef0."
  }
}

variable "eks_oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider (IRSA)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.eks_oidc_provider_arn))
    error_message = "eks_oidc_provider_arn must be an IAM OIDC provider ARN."
  }
}

variable "kubernetes_namespace" {
  description = "Namespace the Helm release runs in."
  type        = string
  default     = "reportgen"
}

variable "db_instance_class" {
  description = "RDS instance class of the metadata database."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of the metadata database; it grows automatically up to 5x."
  type        = number
  default     = 50

  validation {
    condition     = var.db_allocated_storage_gb >= 20 && var.db_allocated_storage_gb <= 2000
    error_message = "db_allocated_storage_gb must be between 20 and 2000."
  }
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups (point-in-time recovery within them)."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be 7 to 35: the backup SOP needs a week at least."
  }
}

variable "artifact_retention_days" {
  description = "Days before current report artifacts expire; older versions go after 30 days."
  type        = number
  default     = 400

  validation {
    condition     = var.artifact_retention_days >= 90
    error_message = "artifact_retention_days must be at least 90 (audit evidence)."
  }
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (besides the paging integration)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@ ]+@[^@ ]+\\.[^@ ]+$", e))])
    error_message = "alarm_emails must be e-mail addresses."
  }
}
