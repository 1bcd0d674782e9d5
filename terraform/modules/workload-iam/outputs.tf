output "file_server_role_arn" {
  description = "Role of the file server: the eks.amazonaws.com/role-arn annotation of its service account (SoraDeployment fileServer service account annotations)."
  value       = module.file_server.arn
}

output "backup_role_arn" {
  description = "Role of the backup and restore jobs: the eks.amazonaws.com/role-arn annotation of their service account."
  value       = module.backup.arn
}

output "backup_prefix" {
  description = "Key prefix the backup role is limited to (BACKUP_PREFIX)."
  value       = var.backup_prefix
}
