# IAM roles of the Sora workloads, through IRSA, least privilege:
# - the file server reads the files bucket (s3:GetObject, s3:ListBucket) and nothing else;
# - the backup jobs (sora-backup create/list/prune/verify/restore) write, read, tag, list and
#   delete under their prefix of the backup bucket, and nothing else; with continuous
#   replication, the Litestream sidecar (sora-backup replicate, same role) does the same under
#   the replica prefix. They cannot delete object
#   versions: what a prune deletes stays recoverable until the bucket's own retention ends.
# The feedback API and the admin panel call no AWS API and get no role.

data "aws_region" "current" {}

locals {
  # The buckets are encrypted with a customer managed key: reading needs kms:Decrypt, writing
  # kms:GenerateDataKey, allowed only when S3 is the caller on the workload's behalf.
  kms_via_s3 = "s3.${data.aws_region.current.region}.amazonaws.com"

  backup_prefix_objects = "${var.backup_bucket_arn}/${var.backup_prefix}*"
}

data "aws_iam_policy_document" "file_server" {
  statement {
    sid       = "ListTheFilesBucket"
    actions   = ["s3:ListBucket"]
    resources = [var.files_bucket_arn]
  }

  statement {
    sid       = "ReadTheFiles"
    actions   = ["s3:GetObject"]
    resources = ["${var.files_bucket_arn}/*"]
  }

  statement {
    sid       = "DecryptTheFiles"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.kms_via_s3]
    }
  }
}

module "file_server" {
  source = "../irsa-role"

  name              = "${var.name}-file-server"
  description       = "Sora file server: read the files bucket"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  service_accounts  = var.file_server_service_accounts
  inline_policies   = { read-files-bucket = data.aws_iam_policy_document.file_server.json }

  tags = var.tags
}

data "aws_iam_policy_document" "backup" {
  statement {
    sid       = "ListTheBackupPrefix"
    actions   = ["s3:ListBucket"]
    resources = [var.backup_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [var.backup_prefix, "${var.backup_prefix}*"]
    }
  }

  # sora-backup uploads (multipart above 64 MiB, aborted on failure), reads back, tags verified
  # backups (sora-verified=true), reads those tags when listing, and prunes.
  statement {
    sid = "WriteReadTagAndPruneBackups"
    actions = [
      "s3:PutObject",
      "s3:GetObject",
      "s3:DeleteObject",
      "s3:PutObjectTagging",
      "s3:GetObjectTagging",
      "s3:AbortMultipartUpload",
    ]
    resources = [local.backup_prefix_objects]
  }

  # Litestream (the sidecar, continuous replication) lists, writes, reads and compacts away
  # its own files under the replica prefix. It tags nothing.
  dynamic "statement" {
    for_each = var.replica_prefix == null ? [] : [var.replica_prefix]
    content {
      sid       = "ListTheReplicaPrefix"
      actions   = ["s3:ListBucket"]
      resources = [var.backup_bucket_arn]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = [statement.value, "${statement.value}*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.replica_prefix == null ? [] : [var.replica_prefix]
    content {
      sid       = "ReplicateUnderTheReplicaPrefix"
      actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      resources = ["${var.backup_bucket_arn}/${statement.value}*"]
    }
  }

  statement {
    sid       = "EncryptAndDecryptBackups"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.kms_via_s3]
    }
  }
}

module "backup" {
  source = "../irsa-role"

  name              = "${var.name}-backup"
  description       = "Sora database backups: write and prune ${var.backup_prefix} in the backup bucket"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  service_accounts  = var.backup_service_accounts
  inline_policies   = { write-and-prune-backups = data.aws_iam_policy_document.backup.json }

  tags = var.tags
}
