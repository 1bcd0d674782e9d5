output "role_arn" {
  description = "ARN of the controller's IAM role."
  value       = module.role.arn
}

output "policy_arn" {
  description = "ARN of the controller's IAM policy."
  value       = aws_iam_policy.controller.arn
}

output "ingress_class" {
  description = "Ingress class served by the controller (the SoraDeployment's ingress.className)."
  value       = "alb"
}

output "chart_version" {
  description = "Installed version of the controller's chart."
  value       = helm_release.controller.version
}
