# The buckets and their settings were resources of this module until each bucket became a
# `hardened-bucket` module call: these blocks move the existing state to the new addresses, so
# that the upgrade plans no change at all (no bucket is destroyed or recreated). Keep them while
# any environment may still hold state from before the move; removing a moved block is a breaking
# change for such a state.

# --- Files bucket -----------------------------------------------------------------------------------

moved {
  from = aws_s3_bucket.files
  to   = module.files_bucket.aws_s3_bucket.this[0]
}

moved {
  from = aws_s3_bucket_versioning.files
  to   = module.files_bucket.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.files
  to   = module.files_bucket.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_public_access_block.files
  to   = module.files_bucket.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_ownership_controls.files
  to   = module.files_bucket.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_logging.files
  to   = module.files_bucket.aws_s3_bucket_logging.this[0]
}

moved {
  from = aws_s3_bucket_policy.files
  to   = module.files_bucket.aws_s3_bucket_policy.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.files
  to   = module.files_bucket.aws_s3_bucket_lifecycle_configuration.this
}

# --- Backup bucket ----------------------------------------------------------------------------------

moved {
  from = aws_s3_bucket.backup
  to   = module.backup_bucket.aws_s3_bucket.this[0]
}

moved {
  from = aws_s3_bucket_versioning.backup
  to   = module.backup_bucket.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.backup
  to   = module.backup_bucket.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_public_access_block.backup
  to   = module.backup_bucket.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_ownership_controls.backup
  to   = module.backup_bucket.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_logging.backup
  to   = module.backup_bucket.aws_s3_bucket_logging.this[0]
}

moved {
  from = aws_s3_bucket_policy.backup
  to   = module.backup_bucket.aws_s3_bucket_policy.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.backup
  to   = module.backup_bucket.aws_s3_bucket_lifecycle_configuration.this
}

# --- Access-log bucket ------------------------------------------------------------------------------

moved {
  from = aws_s3_bucket.logs
  to   = module.logs_bucket.aws_s3_bucket.this[0]
}

moved {
  from = aws_s3_bucket_versioning.logs
  to   = module.logs_bucket.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.logs
  to   = module.logs_bucket.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_public_access_block.logs
  to   = module.logs_bucket.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_ownership_controls.logs
  to   = module.logs_bucket.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_policy.logs
  to   = module.logs_bucket.aws_s3_bucket_policy.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.logs
  to   = module.logs_bucket.aws_s3_bucket_lifecycle_configuration.this
}
