terraform {
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0.0, < 7.0.0"
    }
  }

  # The state bucket cannot hold the state of its own creation: this root keeps a local state
  # (terraform.tfstate here; keep it safe, or migrate it into the bucket afterwards, see README).
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(var.tags, {
      Project   = "Sora"
      ManagedBy = "Terraform"
      Component = "terraform-state"
    })
  }
}
