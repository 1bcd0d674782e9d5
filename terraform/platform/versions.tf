terraform {
  # 1.11: native S3 state locking (use_lockfile) is generally available.
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0.0, < 7.0.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = ">= 3.0.0, < 4.0.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 3.0.0, < 4.0.0"
    }
  }

  # Remote state in the bucket made by ../bootstrap, one key per environment, locked with an S3
  # lock file (no DynamoDB table needed). The bucket, key and region come from
  # env/<environment>.s3.tfbackend and -backend-config="bucket=...": see ../README.md.
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
