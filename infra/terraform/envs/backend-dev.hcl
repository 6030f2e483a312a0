# Remote state of dev: terraform init -backend-config=envs/backend-dev.hcl
# The bucket (versioned, SSE-KMS) and the lock table are made once per account by the platform
# team's bootstrap stack, outside this configuration.
bucket         = "example-111111111111-terraform-state"
key            = "reportgen/terraform.tfstate"
region         = "eu-west-1"
dynamodb_table = "terraform-locks"
encrypt        = true
