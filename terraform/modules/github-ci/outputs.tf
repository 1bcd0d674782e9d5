output "oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider (created here, or the one passed in)."
  value       = local.oidc_provider_arn
}

output "push_role_arn" {
  description = "Role the workflow assumes to push images (aws-actions/configure-aws-credentials role-to-assume)."
  value       = aws_iam_role.push.arn
}

output "push_role_name" {
  description = "Name of the push role."
  value       = aws_iam_role.push.name
}

output "deploy_role_arn" {
  description = "Role the workflow assumes to run hack/rollout.sh against the cluster."
  value       = aws_iam_role.deploy.arn
}

output "deploy_role_name" {
  description = "Name of the deploy role."
  value       = aws_iam_role.deploy.name
}

output "deployer_group" {
  description = "Kubernetes group of the deploy role (access entry), bound to the deployer's RBAC."
  value       = local.deployer_group
}
