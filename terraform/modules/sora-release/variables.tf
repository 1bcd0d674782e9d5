variable "operator_chart" {
  description = "Path (or repository reference) of the operator chart, normally <repository>/charts/sora-operator."
  type        = string
}

variable "platform_chart" {
  description = "Path (or repository reference) of the platform chart, normally <repository>/charts/sora."
  type        = string
}

variable "operator_release_name" {
  description = "Helm release name of the operator."
  type        = string
  default     = "sora-operator"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.operator_release_name)) && length(var.operator_release_name) <= 53
    error_message = "operator_release_name must be a valid Helm release name (lowercase RFC 1123 label, at most 53 characters)."
  }
}

variable "platform_release_name" {
  description = "Helm release name of the platform (and so of its SoraDeployment)."
  type        = string
  default     = "sora"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.platform_release_name)) && length(var.platform_release_name) <= 53
    error_message = "platform_release_name must be a valid Helm release name (lowercase RFC 1123 label, at most 53 characters)."
  }
}

variable "operator_namespace" {
  description = "Namespace of the operator."
  type        = string
  default     = "sora-system"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.operator_namespace))
    error_message = "operator_namespace must be a valid Kubernetes namespace name."
  }
}

variable "namespace" {
  description = "Namespace of the SoraDeployment and its workloads (the IRSA roles trust service accounts in it)."
  type        = string
  default     = "sora"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a valid Kubernetes namespace name."
  }
}

variable "generate_values" {
  description = "Generate chart values from the other inputs. false: only operator_values and platform_values are passed."
  type        = bool
  default     = true
}

variable "environment" {
  description = "SoraDeployment environment: dev, staging or prod."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "region" {
  description = "AWS region of the buckets."
  type        = string
}

variable "operator_image_repository" {
  description = "Image repository of the operator (the sora/operator ECR repository URL)."
  type        = string
}

variable "operator_image_tag" {
  description = "Image tag of the operator."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.operator_image_tag))
    error_message = "operator_image_tag must be a valid image tag."
  }
}

variable "image_repository" {
  description = "Image repository of the Sora services (the sora/services ECR repository URL)."
  type        = string
}

variable "image_tag" {
  description = "Image tag of the Sora services."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a valid image tag."
  }
}

variable "files_bucket_name" {
  description = "Files bucket the file server reads."
  type        = string
}

variable "file_server_role_arn" {
  description = "IRSA role of the file server."
  type        = string
}

variable "backup_bucket_name" {
  description = "Bucket of the database backups."
  type        = string
}

variable "backup_enabled" {
  description = "Take scheduled backups of the feedback database into the backup bucket. false is an explicit choice the SoraDeployment reports as a Warning (BackupsDisabled)."
  type        = bool
  default     = true
}

variable "backup_prefix" {
  description = "Key prefix of the backups in the backup bucket."
  type        = string
}

variable "backup_role_arn" {
  description = "IRSA role of the backup and restore jobs."
  type        = string
}

variable "storage_class_name" {
  description = "StorageClass of the feedback database volume."
  type        = string
}

variable "ingress_class" {
  description = "Ingress class of the SoraDeployment's Ingress (alb: the AWS Load Balancer Controller)."
  type        = string
  default     = "alb"
}

variable "load_balancer_name" {
  description = "Name given to the ALB through the alb.ingress.kubernetes.io/load-balancer-name annotation (the monitoring module finds it by that name)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{0,30}[a-zA-Z0-9]$", var.load_balancer_name))
    error_message = "load_balancer_name must be 2-32 letters, digits or hyphens, not starting or ending with a hyphen."
  }
}

variable "ingress_source_cidrs" {
  description = "Where the ALB's traffic to the pods comes from (its subnets, with target type ip): the SoraDeployment's ingress.sourceCidrs. Empty: any source, which also opens the service ports to other namespaces."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.ingress_source_cidrs : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "ingress_source_cidrs must be CIDR blocks, and not 0.0.0.0/0."
  }
}

variable "ingress_host" {
  description = "Host name the Ingress answers (the seed's domain_name, e.g. api.sora.example.com). null: any host."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on the ALB (HTTP then redirects to HTTPS). null: HTTP only."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN, or null."
  }
}

variable "ingress_annotations" {
  description = "Extra annotations on the Ingress (for example alb.ingress.kubernetes.io/wafv2-acl-arn)."
  type        = map(string)
  default     = {}
}

variable "operator_values" {
  description = "Extra values files (YAML documents) for the operator chart, applied after the generated ones."
  type        = list(string)
  default     = []
}

variable "platform_values" {
  description = "Extra values files (YAML documents) for the platform chart, applied after the generated ones."
  type        = list(string)
  default     = []
}

variable "platform_secret_name" {
  description = "A Kubernetes Secret managed outside the operator (synced from Secrets Manager: module platform-keys) with ENCRYPTION_KEY, IP_SALT and ADMIN_TOKEN; set as feedbackApi.existingSecret. null: the operator generates the Secret."
  type        = string
  default     = null
}

variable "feedback_database_secret_name" {
  description = "Kubernetes Secret (key url) holding the feedback API's postgresql:// DATABASE_URL. Set: the feedback API runs on PostgreSQL (feedbackApi.database.engine postgresql, no volume). null: SQLite on a volume of storage_class_name."
  type        = string
  default     = null

  validation {
    condition     = var.feedback_database_secret_name == null || can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.feedback_database_secret_name))
    error_message = "feedback_database_secret_name must be a valid Kubernetes Secret name."
  }
}
