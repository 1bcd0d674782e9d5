output "id" {
  description = "ID of the bucket (its name), known once its policy is in place: the value for other resources' bucket arguments, such as a logging target_bucket (S3 refuses a logging target whose policy does not yet admit the log delivery)."
  value       = var.prevent_destroy ? aws_s3_bucket.protected[0].id : aws_s3_bucket.this[0].id
  depends_on  = [aws_s3_bucket_policy.this]
}

output "name" {
  description = "Name of the bucket."
  value       = var.prevent_destroy ? aws_s3_bucket.protected[0].bucket : aws_s3_bucket.this[0].bucket
}

output "arn" {
  description = "ARN of the bucket."
  value       = var.prevent_destroy ? aws_s3_bucket.protected[0].arn : aws_s3_bucket.this[0].arn
}

output "lifecycle_rules" {
  description = "The bucket's lifecycle rules as applied, in order: lifecycle_rules, cleanup_incomplete_uploads, lifecycle_rules_after_cleanup."
  value       = aws_s3_bucket_lifecycle_configuration.this.rule
}
