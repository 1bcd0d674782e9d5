output "repository_urls" {
  description = "Repository URLs by name (<account>.dkr.ecr.<region>.amazonaws.com/<name>): docker push targets, and the SoraDeployment's image.repository."
  value       = { for name, repository in aws_ecr_repository.this : name => repository.repository_url }
}

output "repository_arns" {
  description = "Repository ARNs by name."
  value       = { for name, repository in aws_ecr_repository.this : name => repository.arn }
}

output "registry_id" {
  description = "Registry (account) ID the repositories live in."
  value       = one(distinct([for repository in aws_ecr_repository.this : repository.registry_id]))
}
