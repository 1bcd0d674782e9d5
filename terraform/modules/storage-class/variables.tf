variable "name" {
  description = "Name of the StorageClass; put it in the SoraDeployment's feedbackApi database storage class."
  type        = string
  default     = "gp3-encrypted"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.name)) && length(var.name) <= 253
    error_message = "name must be a valid Kubernetes object name (lowercase RFC 1123 subdomain)."
  }
}

variable "default_class" {
  description = "Mark the StorageClass as the cluster's default, used by claims that name none."
  type        = bool
  default     = true
}

variable "reclaim_policy" {
  description = "What happens to a volume when its claim is deleted: Retain (kept, the safe choice for a database) or Delete."
  type        = string
  default     = "Retain"

  validation {
    condition     = contains(["Retain", "Delete"], var.reclaim_policy)
    error_message = "reclaim_policy must be Retain or Delete."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the volumes. null: the account's AWS managed key for EBS (aws/ebs). A customer managed key must grant the EBS CSI driver's role the use of it."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, or null."
  }
}
