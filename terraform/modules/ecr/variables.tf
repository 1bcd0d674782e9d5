variable "repositories" {
  description = "Names of the repositories to create, for example [\"sora/services\", \"sora/operator\"]."
  type        = list(string)

  validation {
    condition     = length(var.repositories) > 0 && alltrue([for name in var.repositories : can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", name))])
    error_message = "repositories must list valid ECR repository names (lowercase, separated by /, ., _ or -)."
  }
}

variable "image_tag_mutability" {
  description = "IMMUTABLE (prod: a pushed tag can never point elsewhere) or MUTABLE (dev and staging, the seed's setting)."
  type        = string

  validation {
    condition     = contains(["MUTABLE", "IMMUTABLE"], var.image_tag_mutability)
    error_message = "image_tag_mutability must be MUTABLE or IMMUTABLE."
  }
}

variable "untagged_image_expiry_days" {
  description = "Days after push when untagged images (layers of replaced tags, failed pushes) are deleted."
  type        = number
  default     = 7

  validation {
    condition     = var.untagged_image_expiry_days >= 1
    error_message = "untagged_image_expiry_days must be at least 1."
  }
}

variable "max_tagged_images" {
  description = "Number of images kept per repository; older ones are deleted. Keep it above the number of tags you may roll back to."
  type        = number
  default     = 100

  validation {
    condition     = var.max_tagged_images >= 10
    error_message = "max_tagged_images must be at least 10."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the images. null: the account's AWS managed key for ECR."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, or null."
  }
}

variable "force_delete" {
  description = "Let `terraform destroy` delete repositories that still hold images."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every repository (on top of the provider's default tags)."
  type        = map(string)
  default     = {}
}
