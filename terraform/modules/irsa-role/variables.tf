variable "name" {
  description = "Name of the IAM role."
  type        = string

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.name))
    error_message = "name must be 1-64 characters from letters, digits and +=,.@_-."
  }
}

variable "description" {
  description = "What the role is for, shown in the IAM console."
  type        = string
  default     = ""
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (output oidc_provider_arn of the eks module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN."
  }
}

variable "oidc_issuer" {
  description = "OIDC issuer of the cluster without https:// (output oidc_issuer of the eks module)."
  type        = string

  validation {
    condition     = !startswith(var.oidc_issuer, "https://")
    error_message = "oidc_issuer must not start with https://."
  }
}

variable "service_accounts" {
  description = "Service accounts allowed to assume the role, each as \"<namespace>:<name>\"."
  type        = list(string)

  validation {
    condition     = length(var.service_accounts) > 0 && alltrue([for account in var.service_accounts : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", account))])
    error_message = "service_accounts must list at least one \"<namespace>:<service account>\" of valid Kubernetes names (no wildcards)."
  }
}

variable "inline_policies" {
  description = "Inline policies of the role: policy name to policy JSON."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.inline_policies) : can(regex("^[\\w+=,.@-]{1,128}$", name))])
    error_message = "inline_policies keys must be valid IAM policy names (letters, digits and +=,.@_-)."
  }
}

variable "managed_policies" {
  description = "Managed policies attached to the role: a name fixed in the configuration (it keys the attachment) to the policy ARN."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags added to the role (on top of the provider's default tags)."
  type        = map(string)
  default     = {}
}
