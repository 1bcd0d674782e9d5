# The lifecycle of each bucket (the seed's tiers and expiry for files, the backup bucket's own
# retention, the access logs' expiry), planned against a mocked AWS provider. What every bucket
# gets (versioning, encryption, no public access, TLS only) is tested with the hardened-bucket
# module.

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
    condition     = module.files_bucket.lifecycle_rules[0].expiration[0].days == 2555
    error_message = "Prod files must expire after 2555 days."
  }

  assert {
    condition = (
      toset([for step in module.files_bucket.lifecycle_rules[0].transition : "${step.days}:${step.storage_class}"])
      == toset(["30:STANDARD_IA", "90:GLACIER", "365:DEEP_ARCHIVE"])
    )
    error_message = "Prod files must move to IA at 30 days, Glacier at 90 and Deep Archive at 365."
  }

  assert {
    condition     = module.files_bucket.lifecycle_rules[1].abort_incomplete_multipart_upload[0].days_after_initiation == 7
    error_message = "Incomplete multipart uploads must be aborted after 7 days."
  }
}

run "other_environments_expire_files_after_a_year" {
  command = plan

  variables {
    files_expiration_days = 365
  }

  assert {
    condition     = module.files_bucket.lifecycle_rules[0].expiration[0].days == 365
    error_message = "Files outside prod must expire after 365 days."
  }

  # S3 refuses a transition on the expiry day: Deep Archive (365) is left out.
  assert {
    condition = (
      toset([for step in module.files_bucket.lifecycle_rules[0].transition : "${step.days}:${step.storage_class}"])
      == toset(["30:STANDARD_IA", "90:GLACIER"])
    )
    error_message = "With a 365-day expiry only the IA and Glacier transitions apply."
  }
}

run "files_rules_keep_their_order" {
  command = plan

  variables {
    files_expiration_days = 365
  }

  assert {
    condition     = [for rule in module.files_bucket.lifecycle_rules : rule.id] == ["transition_to_ia", "cleanup_incomplete_uploads", "expire_noncurrent_versions"]
    error_message = "The files bucket's rules must keep the order they had before the hardened-bucket module."
  }

  assert {
    condition     = module.files_bucket.lifecycle_rules[2].noncurrent_version_expiration[0].noncurrent_days == 30
    error_message = "Old versions of files must expire after noncurrent_version_expiration_days (30)."
  }
}

run "no_current_backup_expires_unless_asked" {
  command = plan

  variables {
    files_expiration_days  = 365
    backup_noncurrent_days = 90
  }

  assert {
    condition     = [for rule in module.backup_bucket.lifecycle_rules : rule.id] == ["expire_deleted_backups", "cleanup_incomplete_uploads"]
    error_message = "Without backup_expiration_days no rule may expire current backups."
  }

  assert {
    condition = (
      module.backup_bucket.lifecycle_rules[0].noncurrent_version_expiration[0].noncurrent_days == 90
      && module.backup_bucket.lifecycle_rules[0].expiration[0].expired_object_delete_marker == true
    )
    error_message = "Deleted backups must stay recoverable for backup_noncurrent_days, then their delete markers go."
  }
}

run "a_hard_backup_limit_adds_an_expiry" {
  command = plan

  variables {
    files_expiration_days  = 365
    backup_expiration_days = 400
  }

  assert {
    condition     = [for rule in module.backup_bucket.lifecycle_rules : rule.id] == ["expire_deleted_backups", "expire_backups", "cleanup_incomplete_uploads"]
    error_message = "backup_expiration_days must add the expire_backups rule before the cleanup rule."
  }

  assert {
    condition     = module.backup_bucket.lifecycle_rules[1].expiration[0].days == 400
    error_message = "expire_backups must expire backups after backup_expiration_days."
  }
}

run "access_logs_expire" {
  command = plan

  variables {
    files_expiration_days = 365
  }

  assert {
    condition = (
      [for rule in module.logs_bucket.lifecycle_rules : rule.id] == ["expire_access_logs", "cleanup_incomplete_uploads"]
      && module.logs_bucket.lifecycle_rules[0].expiration[0].days == 90
      && module.logs_bucket.lifecycle_rules[0].noncurrent_version_expiration[0].noncurrent_days == 7
    )
    error_message = "Access logs must expire after access_log_expiration_days (90), old versions after 7 days."
  }
}

run "every_bucket_aborts_incomplete_uploads_after_seven_days" {
  command = plan

  variables {
    files_expiration_days = 365
  }

  assert {
    condition = alltrue([
      for rules in [module.files_bucket.lifecycle_rules, module.backup_bucket.lifecycle_rules, module.logs_bucket.lifecycle_rules] :
      [for rule in rules : rule.abort_incomplete_multipart_upload[0].days_after_initiation if length(rule.abort_incomplete_multipart_upload) > 0] == [7]
    ])
    error_message = "Every bucket must abort incomplete multipart uploads after 7 days."
  }
}
