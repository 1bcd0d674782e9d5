terraform {
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0.0, < 7.0.0"
      # CloudFront's log delivery source lives in us-east-1, as CloudFront's global resources do.
      configuration_aliases = [aws.us_east_1]
    }
  }
}
