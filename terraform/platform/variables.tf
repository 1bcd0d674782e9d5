# --- Where and what -----------------------------------------------------------------------------

variable "aws_region" {
  description = "AWS region of the platform (the seed's ap-northeast-1 by default)."
  type        = string
  default     = "ap-northeast-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as ap-northeast-1."
  }
}

variable "environment" {
  description = "Environment (dev, staging, prod): sets NAT gateways, node capacity, retention periods and tag mutability (see locals.tf)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "Environment must be dev, staging, or prod."
  }
}

variable "project" {
  description = "Project name; every resource name starts with \"<project>-<environment>\"."
  type        = string
  default     = "sora"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be 2-21 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags on every AWS resource (Project, Environment and ManagedBy are always set)."
  type        = map(string)
  default     = {}
}

# --- Network and cluster ------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC (the seed's 10.0.0.0/16)."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "availability_zones" {
  description = "Availability zones of the subnets, named so that the network never moves when AWS adds a zone (the seed used the region's first two)."
  type        = list(string)
  default     = ["ap-northeast-1a", "ap-northeast-1c"]

  validation {
    condition     = alltrue([for zone in var.availability_zones : startswith(zone, var.aws_region)])
    error_message = "Every zone of availability_zones must be in aws_region (for example ap-northeast-1a for ap-northeast-1)."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the EKS cluster, pinned. Raise it one minor version at a time."
  type        = string
  default     = "1.35"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must be a Kubernetes minor version such as \"1.35\"."
  }
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDR blocks allowed to reach the Kubernetes API endpoint from the internet: where you run kubectl and Terraform (e.g. [\"203.0.113.10/32\"]). Empty: private endpoint only."
  type        = list(string)

  validation {
    condition     = alltrue([for cidr in var.cluster_endpoint_public_access_cidrs : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "cluster_endpoint_public_access_cidrs must be valid IPv4 CIDR blocks, and not 0.0.0.0/0."
  }
}

variable "cluster_admin_principal_arns" {
  description = "IAM roles or users that get cluster-admin (the identity that creates the cluster always has it)."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "Instance types of the node group. null: m6i.large on-demand in prod; t3/t3a/m5/m5a/m6i large spot elsewhere."
  type        = list(string)
  default     = null

  validation {
    condition     = var.node_instance_types == null || length(coalesce(var.node_instance_types, [])) > 0
    error_message = "node_instance_types must be null or list at least one instance type."
  }
}

variable "enable_container_insights" {
  description = "Install the CloudWatch Observability add-on (Container Insights): the CPU and memory alarms need it."
  type        = bool
  default     = true
}

variable "enable_cluster_autoscaler" {
  description = "Install the cluster autoscaler, so that the node group grows to node_max_size when the file server's HPA needs the room (and shrinks back)."
  type        = bool
  default     = true
}

variable "alb_controller_chart_version" {
  description = "Version of the aws-load-balancer-controller Helm chart."
  type        = string
  default     = "1.14.0"
}

variable "storage_class_name" {
  description = "Name of the encrypted gp3 StorageClass (the SoraDeployment's feedback database storage class)."
  type        = string
  default     = "gp3-encrypted"
}

# --- Storage ------------------------------------------------------------------------------------

variable "files_bucket_name" {
  description = "Name of the files bucket (the seed's s3_bucket_name). null: \"<project>-<environment>-files-<account>-<region>\"."
  type        = string
  default     = null
}

variable "backup_bucket_name" {
  description = "Name of the backup bucket. null: \"<project>-<environment>-backups-<account>-<region>\"."
  type        = string
  default     = null
}

variable "backup_prefix" {
  description = "Key prefix of the backups in the backup bucket (BACKUP_PREFIX). null: the seed's \"database/<environment>/\"."
  type        = string
  default     = null
}

variable "backup_expiration_days" {
  description = "Optional hard limit on the age of any backup, even the newest verified one sora-backup always keeps. null: none; the SoraDeployment's backup retention decides."
  type        = number
  default     = null

  validation {
    condition     = var.backup_expiration_days == null || coalesce(var.backup_expiration_days, 30) >= 30
    error_message = "backup_expiration_days must be at least 30, or null."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets and image repositories that still hold data (for throw-away dev environments only)."
  type        = bool
  default     = false
}

# --- Workloads ----------------------------------------------------------------------------------

variable "namespace" {
  description = "Namespace of the SoraDeployment and its workloads."
  type        = string
  default     = "sora"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a valid Kubernetes namespace name."
  }
}

variable "sora_deployment_name" {
  description = "Name of the SoraDeployment; the operator names its workloads and service accounts after it (<name>-file-server, <name>-feedback-api, <name>-backup)."
  type        = string
  default     = "sora"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.sora_deployment_name)) && length(var.sora_deployment_name) <= 40
    error_message = "sora_deployment_name must be a lowercase RFC 1123 label of at most 40 characters."
  }
}

variable "file_server_service_accounts" {
  description = "Service accounts (\"<namespace>:<name>\") trusted by the file server's role. null: \"<namespace>:<sora_deployment_name>-file-server\"."
  type        = list(string)
  default     = null
}

variable "backup_service_accounts" {
  description = "Service accounts (\"<namespace>:<name>\") trusted by the backup role. null: \"<namespace>:<sora_deployment_name>-backup\"."
  type        = list(string)
  default     = null
}

# --- Optional: CloudFront -----------------------------------------------------------------------

variable "cdn_enabled" {
  description = "Put CloudFront in front of the ALB (module cdn): catalog and packages cached at the edge, the other paths passed through, the ALB reachable from CloudFront only. Needs cdn_origin_domain_name."
  type        = bool
  default     = false
}

variable "cdn_origin_domain_name" {
  description = "DNS name of the ALB for CloudFront (resolving to the ALB, covered by its certificate_arn), e.g. origin.api.sora.example.com."
  type        = string
  default     = null

  validation {
    condition     = !var.cdn_enabled || var.cdn_origin_domain_name != null
    error_message = "cdn_origin_domain_name must be set when cdn_enabled is true."
  }
}

variable "cdn_aliases" {
  description = "Host names the distribution answers (e.g. api.sora.example.com); they need cdn_certificate_arn."
  type        = list(string)
  default     = []
}

variable "cdn_certificate_arn" {
  description = "ACM certificate in us-east-1 for cdn_aliases. null: CloudFront's own (*.cloudfront.net, without aliases)."
  type        = string
  default     = null

  validation {
    condition     = length(var.cdn_aliases) == 0 || var.cdn_certificate_arn != null
    error_message = "cdn_aliases need cdn_certificate_arn (an ACM certificate in us-east-1)."
  }
}

# --- Delivery (GitHub Actions) -------------------------------------------------------------------

variable "github_repository" {
  description = "GitHub repository (\"<owner>/<name>\") whose workflow pushes images and deploys to this environment (module github-ci). null: no CI roles."
  type        = string
  default     = null
}

variable "github_oidc_provider_arn" {
  description = "The account's existing OIDC provider for token.actions.githubusercontent.com, when another environment's state already created it. null: create it."
  type        = string
  default     = null
}

# --- Monitoring ---------------------------------------------------------------------------------

variable "alert_email" {
  description = "E-mail address subscribed to the alerts topic. null: no subscription."
  type        = string
  default     = null
}

variable "alb_alarms_enabled" {
  description = "Create the ALB 5xx and response-time alarms. Turn on once the SoraDeployment's Ingress has made its ALB (named <project>-<environment>)."
  type        = bool
  default     = false
}

# --- Optional: PostgreSQL for the feedback API -------------------------------------------------

variable "postgres_enabled" {
  description = "Provision an RDS for PostgreSQL for the feedback API (modules/postgres) and, with deploy_sora, run the feedback API on it (several replicas). false: SQLite on a volume."
  type        = bool
  default     = false
}

# --- Optional: the Sora charts ------------------------------------------------------------------

variable "platform_secret_name" {
  description = "The Kubernetes Secret synced from the platform-keys secret in Secrets Manager (an ExternalSecret, or the sync in docs/backups.md), used as feedbackApi.existingSecret. null: the operator generates the keys in the cluster."
  type        = string
  default     = null
}

variable "deploy_sora" {
  description = "Also install charts/sora-operator and charts/sora with Helm, so that the apply ends in a running Sora. Needs the images in ECR first."
  type        = bool
  default     = false
}

variable "image_tag" {
  description = "Tag of the services image to deploy (needed when deploy_sora is true)."
  type        = string
  default     = null

  validation {
    condition     = !var.deploy_sora || var.image_tag != null
    error_message = "image_tag must be set when deploy_sora is true."
  }
}

variable "operator_image_tag" {
  description = "Tag of the operator image. null: image_tag."
  type        = string
  default     = null
}

variable "alb_source_cidrs" {
  description = "Where the ALB's traffic to the pods comes from: the SoraDeployment's ingress.sourceCidrs, so that the NetworkPolicies admit the service ports from the ALB and the platform's own pods only. null: the public subnets (internet-facing ALB); for an internal ALB, the subnets it is in."
  type        = list(string)
  default     = null

  validation {
    condition     = var.alb_source_cidrs == null || alltrue([for cidr in coalesce(var.alb_source_cidrs, []) : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "alb_source_cidrs must be null or CIDR blocks other than 0.0.0.0/0."
  }
}

variable "ingress_host" {
  description = "Host name of the platform (the seed's domain_name, e.g. api.sora.example.com). null: any host."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on the ALB. null: HTTP only."
  type        = string
  default     = null
}

variable "operator_values" {
  description = "Extra values files (YAML documents) for the operator chart."
  type        = list(string)
  default     = []
}

variable "platform_values" {
  description = "Extra values files (YAML documents) for the platform chart."
  type        = list(string)
  default     = []
}
