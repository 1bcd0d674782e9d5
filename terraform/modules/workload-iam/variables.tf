variable "name" {
  description = "Name prefix of the roles, for example \"sora-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (output oidc_provider_arn of the eks module)."
  type        = string
}

variable "oidc_issuer" {
  description = "OIDC issuer of the cluster without https:// (output oidc_issuer of the eks module)."
  type        = string
}

variable "files_bucket_arn" {
  description = "ARN of the files bucket the file server reads."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.files_bucket_arn))
    error_message = "files_bucket_arn must be an S3 bucket ARN."
  }
}

variable "backup_bucket_arn" {
  description = "ARN of the bucket the backup jobs write to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.backup_bucket_arn))
    error_message = "backup_bucket_arn must be an S3 bucket ARN."
  }
}

variable "backup_prefix" {
  description = "Key prefix the backup jobs may use in the backup bucket (BACKUP_PREFIX), ending in \"/\", for example \"database/prod/\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.'()-]+(/[A-Za-z0-9!_.'()-]+)*/$", var.backup_prefix))
    error_message = "backup_prefix must be a non-empty key prefix of path segments ending in \"/\", without a leading \"/\" or wildcards."
  }
}

variable "replica_prefix" {
  description = "Key prefix of the continuous replica (Litestream, spec.backup.replicaPrefix), ending in \"/\", for example \"replica/prod/\". null: no replica."
  type        = string
  default     = null

  validation {
    condition     = var.replica_prefix == null || can(regex("^[A-Za-z0-9!_.'()-]+(/[A-Za-z0-9!_.'()-]+)*/$", coalesce(var.replica_prefix, "x/")))
    error_message = "replica_prefix must be a non-empty key prefix of path segments ending in \"/\", without a leading \"/\" or wildcards."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts both buckets (output kms_key_arn of the storage module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "file_server_service_accounts" {
  description = "Service accounts of the file server, as \"<namespace>:<name>\", allowed to assume its role."
  type        = list(string)
}

variable "backup_service_accounts" {
  description = "Service accounts of the backup and restore jobs, as \"<namespace>:<name>\", allowed to assume their role."
  type        = list(string)
}

variable "tags" {
  description = "Tags added to the roles (on top of the provider's default tags)."
  type        = map(string)
  default     = {}
}
