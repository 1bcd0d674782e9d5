# The state bucket and its settings were resources of this root until the bucket became a
# `hardened-bucket` module call: these blocks move the existing state to the new addresses, so
# that the upgrade plans no change at all. Without them the plan would destroy the state bucket
# (which prevent_destroy refuses) and create an empty one. Keep them while any account's bootstrap
# state may still be from before the move.

moved {
  from = aws_s3_bucket.state
  to   = module.state_bucket.aws_s3_bucket.protected[0]
}

moved {
  from = aws_s3_bucket_versioning.state
  to   = module.state_bucket.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.state
  to   = module.state_bucket.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_public_access_block.state
  to   = module.state_bucket.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_ownership_controls.state
  to   = module.state_bucket.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_policy.state
  to   = module.state_bucket.aws_s3_bucket_policy.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.state
  to   = module.state_bucket.aws_s3_bucket_lifecycle_configuration.this
}
