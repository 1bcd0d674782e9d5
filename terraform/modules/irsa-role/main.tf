# One IAM role for Kubernetes service accounts (IRSA): only the listed service accounts of this
# cluster can assume it, with the sts.amazonaws.com audience, and it holds exactly the policies
# given to it.

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = [for account in var.service_accounts : "system:serviceaccount:${account}"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.name
  description          = var.description
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600

  tags = var.tags
}

# Keyed by names fixed in the configuration, so that policies and ARNs known only after apply
# never make the number of attachments unknown at plan time.
resource "aws_iam_role_policy" "inline" {
  for_each = var.inline_policies

  name   = each.key
  role   = aws_iam_role.this.id
  policy = each.value
}

resource "aws_iam_role_policy_attachment" "managed" {
  for_each = var.managed_policies

  role       = aws_iam_role.this.name
  policy_arn = each.value
}
