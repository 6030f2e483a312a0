data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

module "kms" {
  source     = "./modules/kms"
  prefix     = local.prefix
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = var.region
}

module "artifacts" {
  source         = "./modules/artifacts"
  prefix         = local.prefix
  kms_key_arn    = module.kms.key_arns["artifacts"]
  retention_days = var.artifact_retention_days
  force_destroy  = false
}

module "database" {
  source                = "./modules/database"
  prefix                = local.prefix
  vpc_id                = var.vpc_id
  subnet_ids            = var.database_subnet_ids
  app_security_group_id = var.app_security_group_id
  kms_key_arn           = module.kms.key_arns["database"]
  instance_class        = var.db_instance_class
  allocated_storage_gb  = var.db_allocated_storage_gb
  backup_retention_days = var.db_backup_retention_days
  multi_az              = local.production
  deletion_protection   = local.production
}

module "secrets" {
  source      = "./modules/secrets"
  prefix      = local.prefix
  kms_key_arn = module.kms.key_arns["secrets"]
}

module "ecr" {
  source      = "./modules/ecr"
  name        = var.name
  environment = var.environment
  kms_key_arn = module.kms.key_arns["ecr"]
}

module "irsa" {
  source            = "./modules/irsa"
  prefix            = local.prefix
  oidc_provider_arn = var.eks_oidc_provider_arn
  namespace         = var.kubernetes_namespace
  service_account   = var.name
  bucket_arn        = module.artifacts.bucket_arn
  kms_key_arns      = [module.kms.key_arns["artifacts"], module.kms.key_arns["secrets"]]
  secret_arn        = module.secrets.secret_arn
}

module "alarms" {
  source                 = "./modules/alarms"
  prefix                 = local.prefix
  kms_key_arn            = module.kms.key_arns["alarms"]
  db_instance_identifier = module.database.instance_identifier
  db_allocated_storage   = var.db_allocated_storage_gb
  emails                 = var.alarm_emails
}
