variable "name" {
  description = "Prefix of the role names (\"<project>-<environment>\"); the roles are \"<name>-<role_names.push>\" and \"<name>-<role_names.deploy>\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 2-41 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "role_names" {
  description = "Suffixes of the two role names, from terraform/delivery.json (the workflow reads the same file)."
  type = object({
    push   = string
    deploy = string
  })
}

variable "github_repository" {
  description = "GitHub repository (\"<owner>/<name>\") whose workflow may assume the roles."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be \"<owner>/<name>\" with no wildcard."
  }
}

variable "github_environment" {
  description = "GitHub environment the jobs run in (the token's sub claim is repo:<repository>:environment:<this>): only jobs of that environment, with its protection rules, get the roles."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+$", var.github_environment))
    error_message = "github_environment must be a GitHub environment name without wildcards."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of an existing IAM OIDC provider for token.actions.githubusercontent.com (there is one per account: the second environment in an account passes the first one's output). null: create it."
  type        = string
  default     = null

  validation {
    condition     = var.oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", coalesce(var.oidc_provider_arn, "x")))
    error_message = "oidc_provider_arn must be the ARN of the token.actions.githubusercontent.com OIDC provider, or null."
  }
}

variable "ecr_repository_arns" {
  description = "ARNs of the image repositories the push role may write to (and nothing else)."
  type        = list(string)

  validation {
    condition     = length(var.ecr_repository_arns) > 0 && alltrue([for arn in var.ecr_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:", arn))])
    error_message = "ecr_repository_arns must list at least one ECR repository ARN."
  }
}

variable "cluster_name" {
  description = "EKS cluster the deploy role may deploy to."
  type        = string
}

variable "cluster_arn" {
  description = "ARN of that cluster (the only resource of eks:DescribeCluster)."
  type        = string
}

variable "namespaces" {
  description = "Namespaces of the two Helm releases (operator and platform): the deploy role administers these and no other."
  type        = list(string)

  validation {
    condition     = length(var.namespaces) > 0
    error_message = "namespaces must list at least one namespace."
  }
}

variable "operator_cluster_role" {
  description = "Name of the operator chart's ClusterRole and ClusterRoleBinding (the release's fullname): the only cluster-wide RBAC objects the deploy role may change."
  type        = string
}

variable "crd_name" {
  description = "The CustomResourceDefinition the operator chart ships: the only one the deploy role may change."
  type        = string
  default     = "soradeployments.sora.example.com"
}

variable "tags" {
  description = "Tags added to the roles and the OIDC provider."
  type        = map(string)
  default     = {}
}
