output "secret_name" {
  description = "The Secrets Manager secret with the platform's keys (JSON: ENCRYPTION_KEY, IP_SALT, ADMIN_TOKEN)."
  value       = aws_secretsmanager_secret.platform_keys.name
}

output "secret_arn" {
  description = "ARN of that secret."
  value       = aws_secretsmanager_secret.platform_keys.arn
}

output "kms_key_arn" {
  description = "The KMS key encrypting the secret."
  value       = aws_kms_key.platform_keys.arn
}

output "read_policy_json" {
  description = "An IAM policy allowing to read the secret and decrypt it, for the role that syncs it into the cluster."
  value       = data.aws_iam_policy_document.read.json
}
