# The image repository: immutable tags, scan on push, KMS encryption, old untagged images expire.

variable "name" {
  description = "Repository name."
  type        = string
}

variable "environment" {
  description = "Environment (a tag on the repository)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting the images."
  type        = string
}

resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = {
    Environment = var.environment
  }
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Drop untagged images (signatures and attestations are tagged) after 14 days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 14
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the newest 100 release images"
        selection = {
          tagStatus      = "tagged"
          tagPatternList = ["sha-*"]
          countType      = "imageCountMoreThan"
          countNumber    = 100
        }
        action = { type = "expire" }
      }
    ]
  })
}

output "repository_url" {
  description = "URL to push and pull images."
  value       = aws_ecr_repository.this.repository_url
}

output "immutable_tags" {
  description = "Whether tags are immutable (read back by the terraform tests)."
  value       = aws_ecr_repository.this.image_tag_mutability == "IMMUTABLE"
}

output "scan_on_push" {
  description = "Whether images are scanned on push (read back by the terraform tests)."
  value       = one(aws_ecr_repository.this.image_scanning_configuration).scan_on_push
}
