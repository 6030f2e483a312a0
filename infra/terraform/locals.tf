locals {
  prefix     = "${var.name}-${var.environment}"
  production = var.environment == "prod"

  tags = {
    Application = var.name
    Environment = var.environment
    ManagedBy   = "terraform"
  }
}

# One workspace per environment: refuse to apply dev's variables to prod's state.
resource "terraform_data" "workspace_guard" {
  input = terraform.workspace

  lifecycle {
    precondition {
      condition     = terraform.workspace == "default" || terraform.workspace == var.environment
      error_message = "Workspace ${terraform.workspace} does not match environment ${var.environment}: run terraform workspace select ${var.environment}."
    }
  }
}
