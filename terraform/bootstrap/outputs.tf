output "state_bucket_name" {
  description = "Name of the state bucket: pass it to `terraform init -backend-config=\"bucket=...\"` in ../platform."
  value       = module.state_bucket.name
}

output "state_bucket_region" {
  description = "Region of the state bucket."
  value       = data.aws_region.current.region
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the state (whoever runs Terraform needs kms:Decrypt and kms:GenerateDataKey on it)."
  value       = aws_kms_key.state.arn
}
