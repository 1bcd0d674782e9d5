variable "name" {
  description = "Name prefix for every resource, for example \"sora-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "cluster_name" {
  description = "Name of the EKS cluster whose Container Insights metrics and log groups are watched."
  type        = string

  validation {
    condition     = length(var.cluster_name) > 0
    error_message = "cluster_name must not be empty."
  }
}

variable "namespace" {
  description = "Kubernetes namespace the Sora workloads run in (the namespace of the SoraDeployment)."
  type        = string
  default     = "sora"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace)) && length(var.namespace) <= 63
    error_message = "namespace must be a valid Kubernetes namespace name (RFC 1123 label)."
  }
}

variable "environment" {
  description = "Environment (dev, staging, prod): the service log groups are /sora/<environment>/<service>."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "log_services" {
  description = "Sora services with a log group of their own: the values of the pods' app.kubernetes.io/component label."
  type        = list(string)
  default     = ["file-server", "feedback-api", "admin", "backup", "restore"]

  validation {
    condition     = alltrue([for service in var.log_services : can(regex("^[a-z][a-z0-9-]{0,62}$", service)) && service != "other"])
    error_message = "log_services must be lowercase component names (\"other\" is the fallback group's)."
  }
}

variable "workloads" {
  description = "Workloads to put CPU and memory alarms on: a short label (used in alarm names) to the pod name Container Insights reports, which is the owning Deployment's or StatefulSet's name."
  type        = map(string)
  default = {
    "file-server"  = "sora-file-server"
    "feedback-api" = "sora-feedback-api"
  }

  validation {
    condition     = alltrue([for key in keys(var.workloads) : can(regex("^[a-z0-9-]+$", key))])
    error_message = "workloads keys must be lowercase letters, digits and hyphens (they become part of alarm names)."
  }
}

variable "load_balancer_name" {
  description = "Name of the ALB the AWS Load Balancer Controller made for the SoraDeployment's Ingress (set it with the Ingress annotation alb.ingress.kubernetes.io/load-balancer-name). null until that ALB exists: the 5xx and response-time alarms are then left out."
  type        = string
  default     = null

  validation {
    condition     = var.load_balancer_name == null || can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{0,30}[a-zA-Z0-9]$", var.load_balancer_name))
    error_message = "load_balancer_name must be 2-32 letters, digits or hyphens, not starting or ending with a hyphen."
  }
}

variable "alert_email" {
  description = "E-mail address subscribed to the alerts topic (AWS sends a confirmation mail first). null: no subscription."
  type        = string
  default     = null

  validation {
    condition     = var.alert_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an e-mail address, or null."
  }
}

variable "log_retention_days" {
  description = "Days to keep the service and Container Insights log groups (the seed: 30 in prod, 7 elsewhere)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "cpu_threshold_percent" {
  description = "Alarm when a workload's average CPU use exceeds this percentage of its limit."
  type        = number
  default     = 80

  validation {
    condition     = var.cpu_threshold_percent > 0 && var.cpu_threshold_percent <= 100
    error_message = "cpu_threshold_percent must be in (0, 100]."
  }
}

variable "memory_threshold_percent" {
  description = "Alarm when a workload's average memory use exceeds this percentage of its limit."
  type        = number
  default     = 85

  validation {
    condition     = var.memory_threshold_percent > 0 && var.memory_threshold_percent <= 100
    error_message = "memory_threshold_percent must be in (0, 100]."
  }
}

variable "http_5xx_threshold" {
  description = "Alarm when the ALB's targets answer more than this many 5xx responses in one period."
  type        = number
  default     = 10

  validation {
    condition     = var.http_5xx_threshold >= 0
    error_message = "http_5xx_threshold must not be negative."
  }
}

variable "response_time_threshold_seconds" {
  description = "Alarm when the ALB's average target response time exceeds this many seconds."
  type        = number
  default     = 2

  validation {
    condition     = var.response_time_threshold_seconds > 0
    error_message = "response_time_threshold_seconds must be positive."
  }
}

variable "alarm_period_seconds" {
  description = "Length of one alarm evaluation period, in seconds."
  type        = number
  default     = 300

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0
    error_message = "alarm_period_seconds must be a multiple of 60."
  }
}

variable "alarm_evaluation_periods" {
  description = "Number of consecutive breaching periods before an alarm fires."
  type        = number
  default     = 2

  validation {
    condition     = var.alarm_evaluation_periods >= 1 && floor(var.alarm_evaluation_periods) == var.alarm_evaluation_periods
    error_message = "alarm_evaluation_periods must be a whole number of at least 1."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period, in days, before the KMS key is deleted after being scheduled for deletion."
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
