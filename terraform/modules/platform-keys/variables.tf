variable "name" {
  description = "Name of the platform (sora-<environment>), used in the KMS alias and descriptions."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 1-40 lower-case letters, digits or hyphens."
  }
}

variable "secret_name" {
  description = "Name of the Secrets Manager secret holding ENCRYPTION_KEY, IP_SALT and ADMIN_TOKEN (JSON)."
  type        = string
}

variable "tags" {
  description = "Tags on the KMS key and the secret."
  type        = map(string)
  default     = {}
}
