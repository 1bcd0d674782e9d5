variable "cluster_name" {
  description = "Name of the EKS cluster; the controller tags what it creates with it, and the IAM policy only lets it change what carries that tag."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,28}$", var.cluster_name))
    error_message = "cluster_name must start with a letter and contain only letters, digits and hyphens (at most 29 characters, so that the IAM names derived from it fit)."
  }
}

variable "region" {
  description = "AWS region of the cluster (given to the controller so that it needs no instance metadata)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as ap-northeast-1."
  }
}

variable "vpc_id" {
  description = "ID of the cluster's VPC (given to the controller so that it needs no instance metadata)."
  type        = string

  validation {
    condition     = startswith(var.vpc_id, "vpc-")
    error_message = "vpc_id must be a VPC ID (vpc-...)."
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

variable "namespace" {
  description = "Namespace the controller runs in."
  type        = string
  default     = "kube-system"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a valid Kubernetes namespace name."
  }
}

variable "service_account_name" {
  description = "Name of the controller's service account (the only one its IAM role trusts)."
  type        = string
  default     = "aws-load-balancer-controller"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.service_account_name))
    error_message = "service_account_name must be a valid Kubernetes name."
  }
}

variable "chart_repository" {
  description = "Helm repository of the aws-load-balancer-controller chart."
  type        = string
  default     = "https://aws.github.io/eks-charts"
}

variable "chart_version" {
  description = "Version of the aws-load-balancer-controller chart, pinned (1.14.x installs controller v2.14.x, which the IAM policy here is written for)."
  type        = string
  default     = "1.14.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.chart_version))
    error_message = "chart_version must be an exact chart version such as 1.14.0."
  }
}

variable "replicas" {
  description = "Number of controller replicas (two keep the admission webhook available during node drains)."
  type        = number
  default     = 2

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 5
    error_message = "replicas must be between 1 and 5."
  }
}

variable "tags" {
  description = "Tags added to the AWS resources (on top of the provider's default tags)."
  type        = map(string)
  default     = {}
}
