variable "name" {
  description = "Name prefix of every resource (the platform's name, for example sora-prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,40}$", var.name))
    error_message = "name must be lower-case letters, digits and dashes, starting with a letter, at most 41 characters."
  }
}

variable "vpc_id" {
  description = "VPC of the database's security group."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets, at least two in different availability zones (Multi-AZ)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids needs at least two private subnets in different availability zones."
  }
}

variable "client_security_group_ids" {
  description = "Security groups allowed to reach the database's port: the EKS cluster security group (nodes and pods)."
  type        = list(string)

  validation {
    condition     = length(var.client_security_group_ids) >= 1
    error_message = "client_security_group_ids needs at least one security group: nothing could reach the database."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify (the monitoring module's sns_topic_arn)."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL major or major.minor version; minor upgrades are applied in the maintenance window."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^1[4-9](\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 14 or newer, as 16 or 16.4."
  }
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "port" {
  description = "Port PostgreSQL listens on."
  type        = number
  default     = 5432
}

variable "database_name" {
  description = "Name of the feedback API's database."
  type        = string
  default     = "feedback"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must be a lower-case identifier."
  }
}

variable "master_username" {
  description = "Master user name (its password is generated and kept by RDS in Secrets Manager)."
  type        = string
  default     = "sora"
}

variable "multi_az" {
  description = "A synchronous standby in another availability zone: a commit returns once both have it."
  type        = bool
  default     = true
}

variable "ca_cert_identifier" {
  description = "Certificate authority of the server's TLS certificate (clients verify it with sslmode=verify-full)."
  type        = string
  default     = "rds-ca-rsa2048-g1"
}

variable "allocated_storage_gb" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage_gb >= 20
    error_message = "allocated_storage_gb must be at least 20 (gp3)."
  }
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
  default     = 200
}

variable "backup_retention_days" {
  description = "Automated backups (and the point-in-time recovery window), in days."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be 1 to 35: 0 would turn off backups and point-in-time recovery."
  }
}

variable "backup_window" {
  description = "Daily backup window (UTC)."
  type        = string
  default     = "17:00-18:00"
}

variable "maintenance_window" {
  description = "Weekly maintenance window (UTC), after the backup window."
  type        = string
  default     = "sun:18:30-sun:19:30"
}

variable "deletion_protection" {
  description = "Refuse deletion of the instance; also keeps a final snapshot and the automated backups when it is deleted. true in prod."
  type        = bool
  default     = true
}

variable "cpu_alarm_percent" {
  description = "Alarm when average CPU stays above this percentage for 15 minutes."
  type        = number
  default     = 80
}

variable "free_storage_alarm_gb" {
  description = "Alarm when free storage falls below this many GiB."
  type        = number
  default     = 5
}

variable "connections_alarm" {
  description = "Alarm when connections stay above this number (size it under the instance's max_connections)."
  type        = number
  default     = 300
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
