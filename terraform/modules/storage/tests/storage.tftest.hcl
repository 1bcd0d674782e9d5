# The files bucket's lifecycle (the seed's tiers and expiry), planned against a mocked AWS
# provider.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_region" {
    defaults = {
      region = "ap-northeast-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name = "sora-test"
}

run "prod_keeps_files_seven_years_through_every_tier" {
  command = plan

  variables {
    files_expiration_days = 2555
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.files.rule[0].expiration[0].days == 2555
    error_message = "Prod files must expire after 2555 days."
  }

  assert {
    condition = (
      toset([for step in aws_s3_bucket_lifecycle_configuration.files.rule[0].transition : "${step.days}:${step.storage_class}"])
      == toset(["30:STANDARD_IA", "90:GLACIER", "365:DEEP_ARCHIVE"])
    )
    error_message = "Prod files must move to IA at 30 days, Glacier at 90 and Deep Archive at 365."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.files.rule[1].abort_incomplete_multipart_upload[0].days_after_initiation == 7
    error_message = "Incomplete multipart uploads must be aborted after 7 days."
  }
}

run "other_environments_expire_files_after_a_year" {
  command = plan

  variables {
    files_expiration_days = 365
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.files.rule[0].expiration[0].days == 365
    error_message = "Files outside prod must expire after 365 days."
  }

  # S3 refuses a transition on the expiry day: Deep Archive (365) is left out.
  assert {
    condition = (
      toset([for step in aws_s3_bucket_lifecycle_configuration.files.rule[0].transition : "${step.days}:${step.storage_class}"])
      == toset(["30:STANDARD_IA", "90:GLACIER"])
    )
    error_message = "With a 365-day expiry only the IA and Glacier transitions apply."
  }
}

run "every_bucket_is_encrypted_and_private" {
  command = plan

  variables {
    files_expiration_days = 365
  }

  assert {
    condition = alltrue([
      for block in [aws_s3_bucket_public_access_block.files, aws_s3_bucket_public_access_block.backup, aws_s3_bucket_public_access_block.logs] :
      block.block_public_acls && block.block_public_policy && block.ignore_public_acls && block.restrict_public_buckets
    ])
    error_message = "Every bucket must block all public access."
  }

  assert {
    condition = alltrue([
      for config in [aws_s3_bucket_server_side_encryption_configuration.files, aws_s3_bucket_server_side_encryption_configuration.backup] :
      one(one(config.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    ])
    error_message = "The files and backup buckets must be encrypted with KMS."
  }
}
