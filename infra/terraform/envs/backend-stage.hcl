# Remote state of stage: terraform init -backend-config=envs/backend-stage.hcl
# The bucket (versioned, SSE-KMS) and the lock table are made once per account by the platform
# team's bootstrap stack, outside this configuration.
bucket         = "example-222222222222-terraform-state"
key            = "reportgen/terraform.tfstate"
region         = "eu-west-1"
dynamodb_table = "terraform-locks"
encrypt        = true
