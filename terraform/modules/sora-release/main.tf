# The two Helm releases that make one `terraform apply` end in a running Sora: the operator
# (charts/sora-operator, with the SoraDeployment CRD) and the platform (charts/sora, one
# SoraDeployment), wired to what the other modules made: ECR images, buckets, IRSA roles, the
# StorageClass, the ALB.
#
# The generated values follow the SoraDeployment spec (crds/): environment, image,
# fileServer.storage.s3 and fileServer.serviceAccount.annotations, feedbackApi.database (SQLite
# on the StorageClass, or PostgreSQL through feedback_database_secret_name),
# ingress, and the backup section (on, with its bucket, prefix and service account). If a chart's values
# differ, switch generate_values off and pass complete values through operator_values /
# platform_values.

locals {
  operator_values = var.generate_values ? [yamlencode({
    image = {
      repository = var.operator_image_repository
      tag        = var.operator_image_tag
    }
  })] : []

  irsa_annotation = "eks.amazonaws.com/role-arn"

  # Backups on, into the bucket this module was given (tests/unit/terraform checks that the
  # operator reads this section as a SoraDeployment that backs up).
  backup_values = {
    enabled = var.backup_enabled
    bucket  = var.backup_bucket_name
    prefix  = var.backup_prefix
    region  = var.region
    serviceAccount = {
      annotations = { (local.irsa_annotation) = var.backup_role_arn }
    }
  }

  # SQLite on a volume of the StorageClass, or PostgreSQL through the Secret the caller wrote.
  # The two shapes differ, which a conditional cannot return: one object, its unused keys
  # dropped (a null in the chart's values would delete the chart's default instead).
  use_postgresql = var.feedback_database_secret_name != null
  feedback_database = { for key, value in {
    storageClassName = local.use_postgresql ? null : var.storage_class_name
    engine           = local.use_postgresql ? "postgresql" : null
    urlSecretRef     = local.use_postgresql ? { name = var.feedback_database_secret_name, key = "url" } : null
  } : key => value if value != null }

  platform_values = var.generate_values ? [yamlencode({
    environment = var.environment
    image = {
      repository = var.image_repository
      tag        = var.image_tag
    }
    fileServer = {
      storage = {
        type = "s3"
        s3 = {
          bucket = var.files_bucket_name
          region = var.region
        }
      }
      serviceAccount = {
        annotations = { (local.irsa_annotation) = var.file_server_role_arn }
      }
    }
    feedbackApi = merge(
      { database = local.feedback_database },
      # Keys escrowed outside the cluster: the operator checks this Secret, never generates one.
      var.platform_secret_name == null ? {} : { existingSecret = var.platform_secret_name },
    )
    backup = local.backup_values
    ingress = merge(
      {
        enabled   = true
        className = var.ingress_class
        # The ALB's subnets: the NetworkPolicies admit the service ports from these and from
        # the platform's own pods only (and TRUSTED_PROXIES trusts them for X-Forwarded-For).
        sourceCidrs = var.ingress_source_cidrs
        annotations = merge(
          { "alb.ingress.kubernetes.io/load-balancer-name" = var.load_balancer_name },
          var.ingress_annotations,
        )
      },
      var.ingress_host == null ? {} : { host = var.ingress_host },
      var.certificate_arn == null ? {} : { certificateArn = var.certificate_arn },
    )
  })] : []
}

resource "helm_release" "operator" {
  name             = var.operator_release_name
  chart            = var.operator_chart
  namespace        = var.operator_namespace
  create_namespace = true

  wait    = true
  timeout = 600

  values = concat(local.operator_values, var.operator_values)
}

resource "helm_release" "platform" {
  name             = var.platform_release_name
  chart            = var.platform_chart
  namespace        = var.namespace
  create_namespace = true

  # The operator reports readiness on the SoraDeployment, not through Helm; Helm only waits for
  # the objects it creates itself.
  wait    = true
  timeout = 600

  values = concat(local.platform_values, var.platform_values)

  # The CRD comes with the operator chart.
  depends_on = [helm_release.operator]
}
