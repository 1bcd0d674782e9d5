variable "cluster_name" {
  description = "Name of the EKS cluster; its node groups are found by the tag k8s.io/cluster-autoscaler/<cluster_name> = owned."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the cluster (the autoscaler's image tag follows it: v<version>.0)."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must be a Kubernetes minor version such as \"1.35\"."
  }
}

variable "region" {
  description = "AWS region of the cluster."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (IRSA)."
  type        = string
}

variable "oidc_issuer" {
  description = "OIDC issuer of the cluster without https://."
  type        = string
}

variable "namespace" {
  description = "Namespace of the autoscaler."
  type        = string
  default     = "kube-system"
}

variable "service_account_name" {
  description = "Service account of the autoscaler (the only one its IAM role trusts)."
  type        = string
  default     = "cluster-autoscaler"
}

variable "chart_repository" {
  description = "Helm repository of the cluster-autoscaler chart."
  type        = string
  default     = "https://kubernetes.github.io/autoscaler"
}

variable "chart_version" {
  description = "Version of the cluster-autoscaler Helm chart, pinned."
  type        = string
  default     = "9.52.1"
}

variable "image_tag" {
  description = "Image tag of the autoscaler. null: v<kubernetes_version>.0 (its minor version must match the cluster's)."
  type        = string
  default     = null
}

variable "scale_down_unneeded_time" {
  description = "How long a node must be unneeded before it is removed."
  type        = string
  default     = "10m"
}

variable "scale_down_delay_after_add" {
  description = "How long after a scale-up scale-down is considered again."
  type        = string
  default     = "10m"
}

variable "tags" {
  description = "Tags added to the IAM role."
  type        = map(string)
  default     = {}
}
