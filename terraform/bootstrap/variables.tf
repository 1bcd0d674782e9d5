variable "aws_region" {
  description = "AWS region of the state bucket (use the platform's region)."
  type        = string
  default     = "ap-northeast-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as ap-northeast-1."
  }
}

variable "state_bucket_name" {
  description = "Name of the state bucket. null: \"sora-terraform-state-<account id>-<region>\"."
  type        = string
  default     = null

  validation {
    condition     = var.state_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days to keep superseded versions of the state files (the way back from a bad apply)."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 30
    error_message = "noncurrent_version_expiration_days must be at least 30."
  }
}

variable "tags" {
  description = "Extra tags on the bucket and its key."
  type        = map(string)
  default     = {}
}
