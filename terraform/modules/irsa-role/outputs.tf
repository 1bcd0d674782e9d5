output "arn" {
  description = "ARN of the role: the value of the eks.amazonaws.com/role-arn annotation on the service accounts."
  value       = aws_iam_role.this.arn
}

output "name" {
  description = "Name of the role."
  value       = aws_iam_role.this.name
}
