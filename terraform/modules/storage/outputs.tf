output "files_bucket_name" {
  description = "Name of the files bucket (the SoraDeployment's fileServer S3 bucket, S3_BUCKET)."
  value       = module.files_bucket.name
}

output "files_bucket_arn" {
  description = "ARN of the files bucket."
  value       = module.files_bucket.arn
}

output "backup_bucket_name" {
  description = "Name of the backup bucket (the SoraDeployment's backup bucket, BACKUP_BUCKET)."
  value       = module.backup_bucket.name
}

output "backup_bucket_arn" {
  description = "ARN of the backup bucket."
  value       = module.backup_bucket.arn
}

output "access_log_bucket_arn" {
  description = "ARN of the access-log bucket (CloudFront's logs go there too, under cloudfront_log_prefix)."
  value       = module.logs_bucket.arn
}

output "access_log_bucket_name" {
  description = "Name of the bucket receiving the S3 server access logs."
  value       = module.logs_bucket.name
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the files and backup buckets (workload roles need kms:Decrypt / kms:GenerateDataKey on it)."
  value       = aws_kms_key.this.arn
}

output "files_expiration_days" {
  description = "Expiry, in days, of the files bucket's objects."
  value       = var.files_expiration_days
}

output "files_transition_days" {
  description = "Storage-class transitions of the files bucket actually applied, day to storage class."
  value       = { for step in local.files_transitions : tostring(step.days) => step.storage_class if step.days < var.files_expiration_days }
}
