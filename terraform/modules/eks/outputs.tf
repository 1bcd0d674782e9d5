output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = aws_eks_cluster.this.arn
}

output "cluster_version" {
  description = "Kubernetes version of the control plane."
  value       = aws_eks_cluster.this.version
}

output "cluster_endpoint" {
  description = "HTTPS endpoint of the Kubernetes API."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64-encoded certificate of the cluster's certificate authority."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "Security group EKS created for the control plane and the managed nodes."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider of the cluster (the Federated principal of IRSA trust policies)."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "oidc_issuer" {
  description = "OIDC issuer of the cluster without https:// (the prefix of the sub and aud claims in IRSA trust policies)."
  value       = local.oidc_issuer
}

output "node_group_capacity_type" {
  description = "Capacity type of the managed node group (ON_DEMAND or SPOT)."
  value       = aws_eks_node_group.this.capacity_type
}

output "node_role_arn" {
  description = "ARN of the IAM role of the nodes."
  value       = aws_iam_role.node.arn
}

output "node_group_name" {
  description = "Name of the managed node group (add-ons that need nodes depend on it)."
  value       = aws_eks_node_group.this.node_group_name
}

output "secrets_kms_key_arn" {
  description = "ARN of the KMS key that encrypts Kubernetes Secrets."
  value       = aws_kms_key.secrets.arn
}

output "control_plane_log_group_name" {
  description = "Name of the log group of the control-plane logs."
  value       = aws_cloudwatch_log_group.control_plane.name
}

output "addon_versions" {
  description = "Installed EKS add-ons and their versions."
  value = merge(
    { for name, addon in aws_eks_addon.before_nodes : name => addon.addon_version },
    { for name, addon in aws_eks_addon.after_nodes : name => addon.addon_version },
  )
}

output "node_group_min_size" {
  description = "Fewest nodes of the node group (the cluster autoscaler's floor)."
  value       = aws_eks_node_group.this.scaling_config[0].min_size
}

output "node_group_max_size" {
  description = "Most nodes of the node group (the cluster autoscaler's ceiling)."
  value       = aws_eks_node_group.this.scaling_config[0].max_size
}

output "network_policy_enforced" {
  description = "Whether the VPC CNI add-on enforces NetworkPolicies (enableNetworkPolicy)."
  value       = jsondecode(aws_eks_addon.before_nodes["vpc-cni"].configuration_values).enableNetworkPolicy == "true"
}
