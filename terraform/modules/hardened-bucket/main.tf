# One S3 bucket with the hardening every Sora bucket gets: versioning, server-side encryption
# (SSE-KMS with S3 Bucket Keys when a key is given, SSE-S3 otherwise), all public access blocked,
# BucketOwnerEnforced object ownership (no ACLs), a bucket policy refusing plain HTTP, and a
# lifecycle rule aborting incomplete multipart uploads after 7 days. Callers add what differs
# between buckets: the key, access logging, lifecycle rules, policy statements, force_destroy and
# prevent_destroy.

locals {
  # Every bucket cleans up after failed multipart uploads, whatever its other rules.
  cleanup_rule = {
    id                                     = "cleanup_incomplete_uploads"
    transitions                            = []
    expiration_days                        = null
    expired_object_delete_marker           = false
    noncurrent_version_expiration_days     = null
    abort_incomplete_multipart_upload_days = 7
  }

  # The rules in the order S3 (and the state) keeps them.
  lifecycle_rules = concat(
    [for rule in var.lifecycle_rules : merge(rule, { abort_incomplete_multipart_upload_days = null })],
    [local.cleanup_rule],
    [for rule in var.lifecycle_rules_after_cleanup : merge(rule, { abort_incomplete_multipart_upload_days = null })],
  )
}

# Terraform accepts no variable in `lifecycle`, so prevent_destroy chooses between two resources,
# one of which exists. The settings below name the bucket with the same conditional expression
# each time (not through a local): checkov links a bucket to its settings only through direct
# references.
resource "aws_s3_bucket" "this" {
  count = var.prevent_destroy ? 0 : 1

  bucket        = var.name
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket" "protected" {
  count = var.prevent_destroy ? 1 : 0

  bucket        = var.name
  force_destroy = var.force_destroy

  tags = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = var.prevent_destroy ? aws_s3_bucket.protected[0].id : aws_s3_bucket.this[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = var.prevent_destroy ? aws_s3_bucket.protected[0].id : aws_s3_bucket.this[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # S3 Bucket Keys keep the KMS calls (and their cost) down; SSE-S3 has no use for them.
    bucket_key_enabled = var.kms_key_arn == null ? null : true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = var.prevent_destroy ? aws_s3_bucket.protected[0].id : aws_s3_bucket.this[0].id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = var.prevent_destroy ? aws_s3_bucket.protected[0].id : aws_s3_bucket.this[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_logging" "this" {
  count = var.logging == null ? 0 : 1

  bucket        = var.prevent_destroy ? aws_s3_bucket.protected[0].id : aws_s3_bucket.this[0].id
  target_bucket = var.logging.target_bucket
  target_prefix = var.logging.target_prefix
}

# The caller's statements first, then the refusal of plain HTTP, for everyone.
data "aws_iam_policy_document" "this" {
  source_policy_documents = var.source_policy_documents

  statement {
    sid     = "DenyPlainHttp"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      var.prevent_destroy ? aws_s3_bucket.protected[0].arn : aws_s3_bucket.this[0].arn,
      "${var.prevent_destroy ? aws_s3_bucket.protected[0].arn : aws_s3_bucket.this[0].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = var.prevent_destroy ? aws_s3_bucket.protected[0].id : aws_s3_bucket.this[0].id
  policy = data.aws_iam_policy_document.this.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = var.prevent_destroy ? aws_s3_bucket.protected[0].id : aws_s3_bucket.this[0].id

  dynamic "rule" {
    for_each = local.lifecycle_rules

    content {
      id     = rule.value.id
      status = "Enabled"

      filter {}

      dynamic "abort_incomplete_multipart_upload" {
        for_each = rule.value.abort_incomplete_multipart_upload_days == null ? [] : [rule.value.abort_incomplete_multipart_upload_days]

        content {
          days_after_initiation = abort_incomplete_multipart_upload.value
        }
      }

      dynamic "transition" {
        for_each = rule.value.transitions

        content {
          days          = transition.value.days
          storage_class = transition.value.storage_class
        }
      }

      dynamic "expiration" {
        for_each = rule.value.expiration_days == null && !rule.value.expired_object_delete_marker ? [] : [rule.value]

        content {
          days                         = expiration.value.expiration_days
          expired_object_delete_marker = expiration.value.expired_object_delete_marker ? true : null
        }
      }

      dynamic "noncurrent_version_expiration" {
        for_each = rule.value.noncurrent_version_expiration_days == null ? [] : [rule.value.noncurrent_version_expiration_days]

        content {
          noncurrent_days = noncurrent_version_expiration.value
        }
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}
