variable "name" {
  description = "Name prefix for every resource, for example \"sora-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "files_bucket_name" {
  description = "Name of the files bucket (extensions and layouts the file server serves). null: \"<name>-files-<account id>-<region>\"."
  type        = string
  default     = null

  validation {
    condition     = var.files_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.files_bucket_name))
    error_message = "files_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "backup_bucket_name" {
  description = "Name of the bucket of the feedback database backups. null: \"<name>-backups-<account id>-<region>\"."
  type        = string
  default     = null

  validation {
    condition     = var.backup_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.backup_bucket_name))
    error_message = "backup_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "files_expiration_days" {
  description = "Days after which objects of the files bucket expire (the seed: 2555, seven years, in prod; 365 elsewhere). Transition steps (30 IA, 90 Glacier, 365 Deep Archive) on or after this day are left out."
  type        = number

  validation {
    condition     = var.files_expiration_days > 90 && floor(var.files_expiration_days) == var.files_expiration_days
    error_message = "files_expiration_days must be a whole number above 90 (Glacier objects are billed for 90 days at least)."
  }
}

variable "backup_noncurrent_days" {
  description = "Days a deleted or overwritten backup stays recoverable (as a noncurrent version) before the bucket removes it: the backup bucket's own retention, beyond sora-backup's pruning."
  type        = number
  default     = 30

  validation {
    condition     = var.backup_noncurrent_days >= 1 && floor(var.backup_noncurrent_days) == var.backup_noncurrent_days
    error_message = "backup_noncurrent_days must be a whole number of at least 1."
  }
}

variable "backup_expiration_days" {
  description = "Optional hard limit: days after which the bucket deletes any backup, even the newest verified one that sora-backup prune always keeps. null (the default): no such limit; sora-backup's BACKUP_RETENTION_DAYS decides."
  type        = number
  default     = null

  validation {
    condition     = var.backup_expiration_days == null || coalesce(var.backup_expiration_days, 30) >= 30
    error_message = "backup_expiration_days must be null or at least 30 (backups are written as STANDARD_IA, billed for 30 days at least)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted versions of objects in the files bucket are removed."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "access_log_expiration_days" {
  description = "Days to keep the S3 server access logs of the files and backup buckets."
  type        = number
  default     = 90

  validation {
    condition     = var.access_log_expiration_days >= 1
    error_message = "access_log_expiration_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects. Leave false anywhere data matters."
  type        = bool
  default     = false
}

variable "kms_deletion_window_days" {
  description = "Waiting period, in days, before the storage key is deleted after being scheduled for deletion."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to every resource (on top of the provider's default tags)."
  type        = map(string)
  default     = {}
}

variable "cloudfront_log_prefix" {
  description = "Prefix under which CloudFront's standard logs (module cdn) may be delivered into the access-log bucket. null: no CloudFront logs."
  type        = string
  default     = null

  validation {
    condition     = var.cloudfront_log_prefix == null || can(regex("^[a-z0-9][a-z0-9-]*$", coalesce(var.cloudfront_log_prefix, "x")))
    error_message = "cloudfront_log_prefix must be lowercase letters, digits and hyphens, or null."
  }
}
