# The S3 bucket that holds the Terraform state of every Sora environment (one key each), with
# versioning (every state ever written can be restored), KMS encryption, no public access, TLS
# only. Locking uses S3 lock files next to the state (use_lockfile), so no DynamoDB table.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  bucket     = coalesce(var.state_bucket_name, "sora-terraform-state-${local.account_id}-${data.aws_region.current.region}")
}

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

resource "aws_kms_key" "state" {
  description             = "Sora Terraform state"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "state" {
  name          = "alias/sora-terraform-state"
  target_key_id = aws_kms_key.state.key_id
}

module "state_bucket" {
  source = "../modules/hardened-bucket"
  #checkov:skip=CKV_AWS_18:Access to the state is audited through CloudTrail; a second bucket only for its access logs is not worth its upkeep here.
  #checkov:skip=CKV_AWS_144:The state is versioned; cross-region replication is left to accounts that need it.
  #checkov:skip=CKV2_AWS_62:No consumer of object events exists for Terraform state.

  name        = local.bucket
  kms_key_arn = aws_kms_key.state.arn

  # Losing the state orphans every resource of every environment.
  prevent_destroy = true

  lifecycle_rules = [
    {
      id                                 = "expire_old_state_versions"
      noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
    },
  ]
}
