variable "name" {
  description = "Name of the bucket (global across AWS)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the objects (SSE-KMS, with S3 Bucket Keys). null: SSE-S3 (AES256), which S3 server access log delivery requires of its target bucket."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, or null."
  }
}

variable "logging" {
  description = "Where S3 server access logs of this bucket go: target bucket name and key prefix (ending in /). null: no access logging (the log bucket itself, the state bucket)."
  type = object({
    target_bucket = string
    target_prefix = string
  })
  default = null

  validation {
    condition     = var.logging == null || can(regex("^$|/$", var.logging.target_prefix))
    error_message = "logging.target_prefix must be empty or end with a slash, for example \"files/\"."
  }
}

variable "lifecycle_rules" {
  description = "Lifecycle rules of the bucket (all enabled, for every object), placed before the module's own cleanup_incomplete_uploads rule. Each: id; transitions (days, storage_class); expiration_days; expired_object_delete_marker; noncurrent_version_expiration_days."
  type = list(object({
    id = string
    transitions = optional(list(object({
      days          = number
      storage_class = string
    })), [])
    expiration_days                    = optional(number)
    expired_object_delete_marker       = optional(bool, false)
    noncurrent_version_expiration_days = optional(number)
  }))
  default = []

  validation {
    condition = alltrue([
      for rule in var.lifecycle_rules : can(regex("^[A-Za-z0-9_.-]{1,255}$", rule.id)) && rule.id != "cleanup_incomplete_uploads"
    ])
    error_message = "Every lifecycle rule needs an id (letters, digits, _ . -) other than cleanup_incomplete_uploads, which the module adds."
  }

  validation {
    condition = alltrue([
      for rule in var.lifecycle_rules : rule.expiration_days != null || rule.expired_object_delete_marker || rule.noncurrent_version_expiration_days != null || length(rule.transitions) > 0
    ])
    error_message = "Every lifecycle rule needs an action: transitions, expiration_days, expired_object_delete_marker or noncurrent_version_expiration_days."
  }

  validation {
    condition = alltrue(flatten([
      for rule in var.lifecycle_rules : [
        for step in rule.transitions : contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], step.storage_class) && step.days >= 0
      ]
    ]))
    error_message = "Transitions must name an S3 storage class (STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE) and a day count of at least 0."
  }

  validation {
    condition = alltrue([
      for rule in var.lifecycle_rules : coalesce(rule.expiration_days, 1) >= 1 && coalesce(rule.noncurrent_version_expiration_days, 1) >= 1
    ])
    error_message = "expiration_days and noncurrent_version_expiration_days must be at least 1."
  }
}

variable "lifecycle_rules_after_cleanup" {
  description = "Lifecycle rules placed after the cleanup_incomplete_uploads rule, same shape as lifecycle_rules. S3 does not care about the order; Terraform does (a reordered list is a change), so buckets created before this module keep their order and plan without changes."
  type = list(object({
    id = string
    transitions = optional(list(object({
      days          = number
      storage_class = string
    })), [])
    expiration_days                    = optional(number)
    expired_object_delete_marker       = optional(bool, false)
    noncurrent_version_expiration_days = optional(number)
  }))
  default = []

  validation {
    condition = alltrue([
      for rule in var.lifecycle_rules_after_cleanup : can(regex("^[A-Za-z0-9_.-]{1,255}$", rule.id)) && rule.id != "cleanup_incomplete_uploads"
    ])
    error_message = "Every lifecycle rule needs an id (letters, digits, _ . -) other than cleanup_incomplete_uploads, which the module adds."
  }

  validation {
    condition = alltrue([
      for rule in var.lifecycle_rules_after_cleanup : rule.expiration_days != null || rule.expired_object_delete_marker || rule.noncurrent_version_expiration_days != null || length(rule.transitions) > 0
    ])
    error_message = "Every lifecycle rule needs an action: transitions, expiration_days, expired_object_delete_marker or noncurrent_version_expiration_days."
  }

  validation {
    condition = alltrue(flatten([
      for rule in var.lifecycle_rules_after_cleanup : [
        for step in rule.transitions : contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], step.storage_class) && step.days >= 0
      ]
    ]))
    error_message = "Transitions must name an S3 storage class (STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE) and a day count of at least 0."
  }

  validation {
    condition = alltrue([
      for rule in var.lifecycle_rules_after_cleanup : coalesce(rule.expiration_days, 1) >= 1 && coalesce(rule.noncurrent_version_expiration_days, 1) >= 1
    ])
    error_message = "expiration_days and noncurrent_version_expiration_days must be at least 1."
  }

  validation {
    condition = (
      length(distinct([for rule in concat(var.lifecycle_rules, var.lifecycle_rules_after_cleanup) : rule.id]))
      == length(concat(var.lifecycle_rules, var.lifecycle_rules_after_cleanup))
    )
    error_message = "Lifecycle rule ids must be unique across lifecycle_rules and lifecycle_rules_after_cleanup."
  }
}

variable "source_policy_documents" {
  description = "IAM policy documents (JSON) whose statements join the bucket policy, before the module's DenyPlainHttp statement; for example the log delivery service's permission on an access-log bucket."
  type        = list(string)
  default     = []
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket while it still holds objects. Leave false anywhere data matters."
  type        = bool
  default     = false
}

variable "prevent_destroy" {
  description = "Refuse any plan that destroys the bucket (Terraform's prevent_destroy). Changing it on an existing bucket changes its resource address (aws_s3_bucket.this[0] or .protected[0]): move the state with terraform state mv first, or the plan replaces the bucket."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags on the bucket (on top of the provider's default tags)."
  type        = map(string)
  default     = {}
}
