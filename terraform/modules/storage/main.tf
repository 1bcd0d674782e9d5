# The seed's files bucket (versioned, encrypted, public access blocked, lifecycle tiers), a bucket
# for the feedback database backups with its own retention, and a bucket for their access logs.
# Objects are encrypted with a customer managed KMS key (S3 Bucket Keys keep the KMS calls
# cheap); only TLS requests are admitted.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  # Bucket names are global: the account and region make the defaults unique.
  files_bucket_name  = coalesce(var.files_bucket_name, "${var.name}-files-${local.account_id}-${local.region}")
  backup_bucket_name = coalesce(var.backup_bucket_name, "${var.name}-backups-${local.account_id}-${local.region}")
  logs_bucket_name   = "${var.name}-s3-logs-${local.account_id}-${local.region}"

  files_transitions = [
    { days = 30, storage_class = "STANDARD_IA" },
    { days = 90, storage_class = "GLACIER" },
    { days = 365, storage_class = "DEEP_ARCHIVE" },
  ]
}

# --- Encryption key ---------------------------------------------------------------------------------

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key only; the account root statement is the standard delegation to IAM.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key only; the account root statement is the standard delegation to IAM.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key only.
  statement {
    sid       = "AccountAdministersTheKeyThroughIAM"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name}: objects of the files and backup buckets"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-storage"
  target_key_id = aws_kms_key.this.key_id
}

# --- Files bucket -----------------------------------------------------------------------------------

module "files_bucket" {
  source = "../hardened-bucket"
  #checkov:skip=CKV_AWS_144:Cross-region replication is left out by design (cost); the bucket is versioned and its content can be republished from the source layouts and extensions.
  #checkov:skip=CKV2_AWS_62:No consumer of object events exists; the file server reads on request.

  name          = local.files_bucket_name
  kms_key_arn   = aws_kms_key.this.arn
  force_destroy = var.force_destroy

  logging = {
    target_bucket = module.logs_bucket.id
    target_prefix = "files/"
  }

  # The seed's tiers: infrequent access after 30 days, Glacier after 90, Deep Archive after 365,
  # expiry after files_expiration_days (2,555 = seven years in prod, 365 elsewhere). S3 refuses a
  # transition on or after the expiry day, so with a 365-day expiry the Deep Archive step is left
  # out (the seed's configuration had that conflict outside prod).
  lifecycle_rules = [
    {
      id              = "transition_to_ia"
      transitions     = [for step in local.files_transitions : step if step.days < var.files_expiration_days]
      expiration_days = var.files_expiration_days
    },
  ]

  # Versioning keeps overwritten and deleted objects; they go after a while. (After the module's
  # cleanup rule: the order this bucket's rules had before the module.)
  lifecycle_rules_after_cleanup = [
    {
      id                                 = "expire_noncurrent_versions"
      noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
    },
  ]

  tags = var.tags
}

# --- Backup bucket ----------------------------------------------------------------------------------

module "backup_bucket" {
  source = "../hardened-bucket"
  #checkov:skip=CKV_AWS_144:Cross-region replication is left out by design (cost); enable it for a stricter disaster-recovery target.
  #checkov:skip=CKV2_AWS_62:No consumer of object events exists; sora-backup verifies its own uploads.

  name          = local.backup_bucket_name
  kms_key_arn   = aws_kms_key.this.arn
  force_destroy = var.force_destroy

  logging = {
    target_bucket = module.logs_bucket.id
    target_prefix = "backup/"
  }

  # sora-backup owns the retention of backups (BACKUP_RETENTION_DAYS) and always keeps the newest
  # verified one, so by default the bucket expires no current backup. What a prune (or anyone
  # with the backup role) deletes becomes a noncurrent version, kept backup_noncurrent_days more
  # before it is gone: the bucket's own retention, out of reach of the backup role.
  lifecycle_rules = concat(
    [
      {
        id                                 = "expire_deleted_backups"
        noncurrent_version_expiration_days = var.backup_noncurrent_days
        expired_object_delete_marker       = true
      },
    ],
    var.backup_expiration_days == null ? [] : [
      {
        id              = "expire_backups"
        expiration_days = var.backup_expiration_days
      },
    ],
  )

  tags = var.tags
}

# --- Access-log bucket ------------------------------------------------------------------------------

module "logs_bucket" {
  source = "../hardened-bucket"
  #checkov:skip=CKV_AWS_18:This is the access-log target; logging its own access would loop.
  #checkov:skip=CKV_AWS_144:Access logs are not replicated across regions (cost).
  #checkov:skip=CKV_AWS_145:S3 server access logging delivers only to buckets encrypted with SSE-S3 (AES256), not SSE-KMS.
  #checkov:skip=CKV2_AWS_62:No consumer of object events exists for access logs.

  name          = local.logs_bucket_name
  kms_key_arn   = null # SSE-S3: log delivery refuses SSE-KMS targets
  force_destroy = var.force_destroy

  lifecycle_rules = [
    {
      id                                 = "expire_access_logs"
      expiration_days                    = var.access_log_expiration_days
      noncurrent_version_expiration_days = 7
    },
  ]

  source_policy_documents = [data.aws_iam_policy_document.log_delivery.json]

  tags = var.tags
}

# S3's log delivery service may write to the access-log bucket, for this account's two data
# buckets only (the module adds the refusal of plain HTTP for everyone else).
data "aws_iam_policy_document" "log_delivery" {
  statement {
    sid       = "S3ServerAccessLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${module.logs_bucket.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [module.files_bucket.arn, module.backup_bucket.arn]
    }
  }

  # CloudFront standard logging (module cdn) delivers through CloudWatch Logs' delivery service,
  # under its own prefix, for this account only.
  dynamic "statement" {
    for_each = var.cloudfront_log_prefix == null ? [] : [var.cloudfront_log_prefix]

    content {
      sid       = "CloudFrontAccessLogDelivery"
      actions   = ["s3:PutObject"]
      resources = ["${module.logs_bucket.arn}/${statement.value}/*"]

      principals {
        type        = "Service"
        identifiers = ["delivery.logs.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }
}
