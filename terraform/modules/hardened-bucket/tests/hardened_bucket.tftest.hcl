# The hardening every bucket gets, and what a caller may vary, planned against a mocked AWS
# provider (no account needed).

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name = "sora-test-bucket"
}

run "a_bucket_is_versioned_private_and_encrypted_by_default" {
  command = plan

  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "The bucket must be versioned."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.block_public_acls
      && aws_s3_bucket_public_access_block.this.block_public_policy
      && aws_s3_bucket_public_access_block.this.ignore_public_acls
      && aws_s3_bucket_public_access_block.this.restrict_public_buckets
    )
    error_message = "The bucket must block all public access."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.this.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "Without a KMS key the bucket must use SSE-S3."
  }

  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "Without a logging target the bucket must not log."
  }

  assert {
    condition     = length(aws_s3_bucket.this) == 1 && length(aws_s3_bucket.protected) == 0
    error_message = "Without prevent_destroy the bucket is aws_s3_bucket.this[0]."
  }

  assert {
    condition     = aws_s3_bucket.this[0].bucket == "sora-test-bucket" && !aws_s3_bucket.this[0].force_destroy
    error_message = "The bucket must carry its name and keep its objects on destroy by default."
  }
}

run "every_bucket_aborts_incomplete_uploads_after_seven_days" {
  command = plan

  assert {
    condition     = [for rule in output.lifecycle_rules : rule.id] == ["cleanup_incomplete_uploads"]
    error_message = "Without rules of its own the bucket has only the cleanup rule."
  }

  assert {
    condition = (
      output.lifecycle_rules[0].status == "Enabled"
      && output.lifecycle_rules[0].abort_incomplete_multipart_upload[0].days_after_initiation == 7
    )
    error_message = "Incomplete multipart uploads must be aborted after 7 days."
  }
}

run "a_kms_key_gives_sse_kms_with_bucket_keys" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:ap-northeast-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  }

  assert {
    condition = (
      one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
      && one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn
    )
    error_message = "With a key the bucket must use SSE-KMS with that key."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled == true
    error_message = "SSE-KMS must use S3 Bucket Keys."
  }
}

run "access_logs_go_to_the_target_bucket" {
  command = plan

  variables {
    logging = {
      target_bucket = "sora-test-logs"
      target_prefix = "files/"
    }
  }

  assert {
    condition     = aws_s3_bucket_logging.this[0].target_bucket == "sora-test-logs" && aws_s3_bucket_logging.this[0].target_prefix == "files/"
    error_message = "Access logs must go to the given bucket and prefix."
  }
}

run "lifecycle_rules_keep_their_order_around_the_cleanup_rule" {
  command = plan

  variables {
    lifecycle_rules = [
      {
        id              = "tiers"
        transitions     = [{ days = 30, storage_class = "STANDARD_IA" }]
        expiration_days = 365
      },
      {
        id                                 = "deleted"
        expired_object_delete_marker       = true
        noncurrent_version_expiration_days = 30
      },
    ]
    lifecycle_rules_after_cleanup = [
      {
        id                                 = "noncurrent"
        noncurrent_version_expiration_days = 14
      },
    ]
  }

  assert {
    condition     = [for rule in output.lifecycle_rules : rule.id] == ["tiers", "deleted", "cleanup_incomplete_uploads", "noncurrent"]
    error_message = "Rules must come in order: lifecycle_rules, the cleanup rule, lifecycle_rules_after_cleanup."
  }

  assert {
    condition = (
      output.lifecycle_rules[0].expiration[0].days == 365
      && [for step in output.lifecycle_rules[0].transition : "${step.days}:${step.storage_class}"] == ["30:STANDARD_IA"]
      && length(output.lifecycle_rules[0].abort_incomplete_multipart_upload) == 0
    )
    error_message = "A rule with transitions and an expiry must have exactly those."
  }

  assert {
    condition = (
      output.lifecycle_rules[1].expiration[0].expired_object_delete_marker == true
      && output.lifecycle_rules[1].noncurrent_version_expiration[0].noncurrent_days == 30
      && length(output.lifecycle_rules[1].transition) == 0
    )
    error_message = "A rule may expire delete markers and noncurrent versions together."
  }

  assert {
    condition = (
      output.lifecycle_rules[3].noncurrent_version_expiration[0].noncurrent_days == 14
      && length(output.lifecycle_rules[3].expiration) == 0
    )
    error_message = "A rule with only a noncurrent expiry must have no expiration block."
  }
}

run "prevent_destroy_uses_the_protected_resource" {
  command = plan

  variables {
    prevent_destroy = true
  }

  assert {
    condition     = length(aws_s3_bucket.this) == 0 && length(aws_s3_bucket.protected) == 1
    error_message = "With prevent_destroy the bucket is aws_s3_bucket.protected[0]."
  }

  assert {
    condition     = aws_s3_bucket.protected[0].bucket == "sora-test-bucket"
    error_message = "The protected bucket must carry the name."
  }
}

run "the_cleanup_rule_id_is_reserved" {
  command = plan

  variables {
    lifecycle_rules = [{ id = "cleanup_incomplete_uploads", expiration_days = 30 }]
  }

  expect_failures = [var.lifecycle_rules]
}

run "rule_ids_are_unique_across_both_lists" {
  command = plan

  variables {
    lifecycle_rules               = [{ id = "expire", expiration_days = 30 }]
    lifecycle_rules_after_cleanup = [{ id = "expire", noncurrent_version_expiration_days = 30 }]
  }

  expect_failures = [var.lifecycle_rules_after_cleanup]
}

run "log_prefixes_end_with_a_slash" {
  command = plan

  variables {
    logging = {
      target_bucket = "sora-test-logs"
      target_prefix = "files"
    }
  }

  expect_failures = [var.logging]
}

run "a_rule_needs_an_action" {
  command = plan

  variables {
    lifecycle_rules_after_cleanup = [{ id = "nothing" }]
  }

  expect_failures = [var.lifecycle_rules_after_cleanup]
}

run "transitions_name_a_storage_class" {
  command = plan

  variables {
    lifecycle_rules = [{ id = "tiers", transitions = [{ days = 30, storage_class = "COLD" }] }]
  }

  expect_failures = [var.lifecycle_rules]
}

run "bucket_names_follow_s3_rules" {
  command = plan

  variables {
    name = "Sora_Bucket"
  }

  expect_failures = [var.name]
}
