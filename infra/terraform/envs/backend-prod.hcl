# Remote state of prod: terraform init -backend-config=envs/backend-prod.hcl
# The bucket (versioned, SSE-KMS) and the lock table are made once per account by the platform
# team's bootstrap stack, outside this configuration.
bucket         = "example-333333333333-terraform-state"
key            = "reportgen/terraform.tfstate"
region         = "eu-west-1"
dynamodb_table = "terraform-locks"
encrypt        = true
