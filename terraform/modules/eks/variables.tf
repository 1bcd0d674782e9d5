variable "cluster_name" {
  description = "Name of the EKS cluster, for example \"sora-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,28}$", var.cluster_name))
    error_message = "cluster_name must start with a letter and contain only letters, digits and hyphens (at most 29 characters, so that the IAM names derived from it fit)."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane, pinned (\"1.35\"). Upgrade one minor version at a time."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must be a Kubernetes minor version such as \"1.35\"."
  }
}

variable "support_type" {
  description = "EKS upgrade policy: STANDARD (the cluster is upgraded when standard support ends) or EXTENDED (paid extended support)."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXTENDED"], var.support_type)
    error_message = "support_type must be STANDARD or EXTENDED."
  }
}

variable "subnet_ids" {
  description = "Private subnets for the control-plane network interfaces and the nodes, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets (EKS needs two availability zones)."
  }
}

variable "public_access_cidrs" {
  description = "CIDR blocks allowed to reach the public Kubernetes API endpoint (your workstation, your CI). Empty: the endpoint is private only, and kubectl and Terraform must run from inside the VPC."
  type        = list(string)

  validation {
    condition     = alltrue([for cidr in var.public_access_cidrs : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "public_access_cidrs must be valid IPv4 CIDR blocks, and not 0.0.0.0/0."
  }
}

variable "admin_principal_arns" {
  description = "IAM roles or users given cluster-admin through EKS access entries, besides the identity that creates the cluster (which is always admin)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", arn))])
    error_message = "admin_principal_arns must be IAM role or user ARNs."
  }
}

variable "log_retention_days" {
  description = "Days to keep the control-plane logs (the seed's rule: 30 in prod, 7 elsewhere)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the control-plane log group (its policy must admit CloudWatch Logs)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN."
  }
}

variable "capacity_type" {
  description = "Capacity type of the managed node group: ON_DEMAND (prod) or SPOT (elsewhere, the seed's cost rule)."
  type        = string

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.capacity_type)
    error_message = "capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "instance_types" {
  description = "EC2 instance types of the node group. With SPOT, list several of the same size so that capacity is found when one pool runs out."
  type        = list(string)
  default     = ["t3.large"]

  validation {
    condition     = length(var.instance_types) >= 1
    error_message = "instance_types must list at least one instance type."
  }
}

variable "node_ami_type" {
  description = "AMI type of the managed nodes."
  type        = string
  default     = "AL2023_x86_64_STANDARD"

  validation {
    condition     = contains(["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"], var.node_ami_type)
    error_message = "node_ami_type must be AL2023_x86_64_STANDARD, AL2023_ARM_64_STANDARD, BOTTLEROCKET_x86_64 or BOTTLEROCKET_ARM_64 (and match instance_types' architecture)."
  }
}

variable "node_min_size" {
  description = "Minimum number of nodes."
  type        = number
  default     = 2

  validation {
    condition     = var.node_min_size >= 1
    error_message = "node_min_size must be at least 1."
  }
}

variable "node_max_size" {
  description = "Maximum number of nodes."
  type        = number
  default     = 4

  validation {
    condition     = var.node_max_size >= var.node_min_size
    error_message = "node_max_size must be at least node_min_size."
  }
}

variable "node_desired_size" {
  description = "Number of nodes at creation (later changes by an autoscaler are kept)."
  type        = number
  default     = 2

  validation {
    condition     = var.node_desired_size >= var.node_min_size && var.node_desired_size <= var.node_max_size
    error_message = "node_desired_size must lie between node_min_size and node_max_size."
  }
}

variable "node_disk_size_gib" {
  description = "Size of each node's encrypted gp3 root volume, in GiB."
  type        = number
  default     = 50

  validation {
    condition     = var.node_disk_size_gib >= 20 && var.node_disk_size_gib <= 16384
    error_message = "node_disk_size_gib must be between 20 and 16384."
  }
}

variable "node_metadata_hop_limit" {
  description = "IMDSv2 response hop limit on the nodes. 1 keeps pods away from the node's credentials; raise to 2 only for an add-on that cannot run without instance metadata."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 2], var.node_metadata_hop_limit)
    error_message = "node_metadata_hop_limit must be 1 or 2."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period, in days, before the secrets key is deleted after being scheduled for deletion."
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

variable "enable_container_insights" {
  description = "Install the CloudWatch Observability add-on (Container Insights metrics and container logs), which the CPU and memory alarms read."
  type        = bool
  default     = true
}

variable "fluent_bit_application_config" {
  description = "Fluent Bit application-log.conf for the CloudWatch Observability add-on (output fluent_bit_application_config of module monitoring). null: the add-on's own."
  type        = string
  default     = null
}
