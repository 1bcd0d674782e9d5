# The Sora platform's AWS substrate for one environment: the seed's ECS/Fargate design moved to
# EKS. This root only wires modules together; every per-environment choice is in locals.tf.

data "aws_region" "current" {}

module "monitoring" {
  source = "../modules/monitoring"

  name               = local.name
  environment        = var.environment
  cluster_name       = local.cluster_name
  namespace          = var.namespace
  log_retention_days = local.settings.log_retention_days
  alert_email        = var.alert_email
  workloads = {
    "file-server"  = "${var.sora_deployment_name}-file-server"
    "feedback-api" = "${var.sora_deployment_name}-feedback-api"
  }
  load_balancer_name = var.alb_alarms_enabled ? local.load_balancer_name : null

  tags = local.tags
}

module "network" {
  source = "../modules/network"

  name                    = local.name
  cluster_name            = local.cluster_name
  availability_zones      = var.availability_zones
  vpc_cidr                = var.vpc_cidr
  one_nat_gateway_per_az  = local.settings.one_nat_gateway_per_az
  flow_log_retention_days = local.settings.log_retention_days
  flow_log_kms_key_arn    = module.monitoring.kms_key_arn

  tags = local.tags
}

module "eks" {
  source = "../modules/eks"

  cluster_name              = local.cluster_name
  kubernetes_version        = var.kubernetes_version
  subnet_ids                = module.network.private_subnet_ids
  public_access_cidrs       = var.cluster_endpoint_public_access_cidrs
  admin_principal_arns      = var.cluster_admin_principal_arns
  log_retention_days        = local.settings.log_retention_days
  log_kms_key_arn           = module.monitoring.kms_key_arn
  capacity_type             = local.settings.node_capacity_type
  instance_types            = local.settings.node_instance_types
  node_min_size             = local.settings.node_min_size
  node_desired_size         = local.settings.node_desired_size
  node_max_size             = local.settings.node_max_size
  enable_container_insights = var.enable_container_insights
  # Sora's pods into /sora/<environment>/<service>, the groups module monitoring made.
  fluent_bit_application_config = module.monitoring.fluent_bit_application_config

  tags = local.tags

  # The Container Insights log groups must exist before the add-on starts writing to them.
  depends_on = [module.monitoring]
}

module "storage_class" {
  source = "../modules/storage-class"

  name = var.storage_class_name

  depends_on = [module.eks]
}

module "alb_controller" {
  source = "../modules/alb-controller"

  cluster_name      = module.eks.cluster_name
  region            = data.aws_region.current.region
  vpc_id            = module.network.vpc_id
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  chart_version     = var.alb_controller_chart_version

  tags = local.tags

  # The controller's pods need nodes, and its webhook must be up before any Ingress is applied.
  depends_on = [module.eks]
}

# Node autoscaling: nodes follow the pods the file server's HPA asks for (up to node_max_size).
module "cluster_autoscaler" {
  source = "../modules/cluster-autoscaler"
  count  = var.enable_cluster_autoscaler ? 1 : 0

  cluster_name       = module.eks.cluster_name
  kubernetes_version = var.kubernetes_version
  region             = data.aws_region.current.region
  oidc_provider_arn  = module.eks.oidc_provider_arn
  oidc_issuer        = module.eks.oidc_issuer

  tags = local.tags

  depends_on = [module.eks]
}

module "storage" {
  source = "../modules/storage"

  name                   = local.name
  files_bucket_name      = var.files_bucket_name
  backup_bucket_name     = var.backup_bucket_name
  files_expiration_days  = local.settings.files_expiration_days
  backup_noncurrent_days = local.settings.backup_noncurrent_days
  backup_expiration_days = var.backup_expiration_days
  force_destroy          = var.force_destroy
  cloudfront_log_prefix  = var.cdn_enabled ? local.cdn_log_prefix : null

  tags = local.tags
}

# Optional CloudFront in front of the ALB (off by default): the catalog and packages cached at the
# edge, everything else passed through, the ALB reachable from CloudFront only.
module "cdn" {
  source = "../modules/cdn"
  count  = var.cdn_enabled ? 1 : 0

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name               = local.name
  origin_domain_name = var.cdn_origin_domain_name
  aliases            = var.cdn_aliases
  certificate_arn    = var.cdn_certificate_arn
  vpc_id             = module.network.vpc_id
  vpc_cidr           = var.vpc_cidr
  log_bucket_arn     = module.storage.access_log_bucket_arn
  log_prefix         = local.cdn_log_prefix

  tags = local.tags
}

module "ecr" {
  source = "../modules/ecr"

  repositories         = values(local.ecr_repositories)
  image_tag_mutability = local.settings.image_tag_mutability
  force_delete         = var.force_destroy

  tags = local.tags
}

module "workload_iam" {
  source = "../modules/workload-iam"

  name                         = local.name
  oidc_provider_arn            = module.eks.oidc_provider_arn
  oidc_issuer                  = module.eks.oidc_issuer
  files_bucket_arn             = module.storage.files_bucket_arn
  backup_bucket_arn            = module.storage.backup_bucket_arn
  backup_prefix                = local.backup_prefix
  replica_prefix               = "replica/${var.environment}/" # the operator's default replicaPrefix
  kms_key_arn                  = module.storage.kms_key_arn
  file_server_service_accounts = local.file_server_service_accounts
  backup_service_accounts      = local.backup_service_accounts

  tags = local.tags
}

# The platform's keys outside the cluster (Secrets Manager, KMS): with them and the backup
# bucket a lost cluster is rebuilt with every comment readable (docs/backups.md).
module "platform_keys" {
  source = "../modules/platform-keys"

  name        = local.name
  secret_name = "${local.name}/platform-keys"
  tags        = local.tags
}

# Optional: PostgreSQL for the feedback API, reachable from the cluster only.
module "postgres" {
  source = "../modules/postgres"
  count  = var.postgres_enabled ? 1 : 0

  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  alarm_topic_arn           = module.monitoring.sns_topic_arn
  instance_class            = local.settings.postgres_instance_class
  multi_az                  = local.settings.postgres_multi_az
  deletion_protection       = local.settings.postgres_deletion_protection
  backup_retention_days     = local.settings.postgres_backup_retention_days

  tags = local.tags
}

# The feedback API's DATABASE_URL, from the password RDS keeps in Secrets Manager, as the
# Kubernetes Secret the SoraDeployment names (feedbackApi.database.urlSecretRef). RDS rotates
# that password; each apply rewrites the Secret from the current value (docs/terraform.md).
data "aws_secretsmanager_secret_version" "feedback_database" {
  count     = var.postgres_enabled && var.deploy_sora ? 1 : 0
  secret_id = module.postgres[0].master_user_secret_arn
}

resource "kubernetes_secret_v1" "feedback_database" {
  count = var.postgres_enabled && var.deploy_sora ? 1 : 0

  metadata {
    name      = local.feedback_database_secret_name
    namespace = var.namespace
  }

  data = {
    url = format(
      "postgresql://%s:%s@%s:%d/%s?sslmode=require",
      urlencode(module.postgres[0].master_username),
      urlencode(jsondecode(data.aws_secretsmanager_secret_version.feedback_database[0].secret_string)["password"]),
      module.postgres[0].address,
      module.postgres[0].port,
      module.postgres[0].database_name,
    )
  }

  # The namespace comes with the platform release; the pods wait for the Secret meanwhile.
  depends_on = [module.sora]
}

# Optional: the operator and platform charts, so that one apply yields a running Sora. Off by
# default: the images must be in ECR first (see ../README.md).
module "sora" {
  source = "../modules/sora-release"
  count  = var.deploy_sora ? 1 : 0

  operator_chart            = "${path.module}/../../charts/sora-operator"
  platform_chart            = "${path.module}/../../charts/sora"
  namespace                 = var.namespace
  platform_release_name     = var.sora_deployment_name
  operator_release_name     = local.delivery.releases.operator.name
  operator_namespace        = local.delivery.releases.operator.namespace
  environment               = var.environment
  region                    = data.aws_region.current.region
  operator_image_repository = module.ecr.repository_urls[local.ecr_repositories.operator]
  operator_image_tag        = coalesce(var.operator_image_tag, var.image_tag)
  image_repository          = module.ecr.repository_urls[local.ecr_repositories.services]
  image_tag                 = var.image_tag
  files_bucket_name         = module.storage.files_bucket_name
  file_server_role_arn      = module.workload_iam.file_server_role_arn
  backup_bucket_name        = module.storage.backup_bucket_name
  backup_prefix             = local.backup_prefix
  backup_role_arn           = module.workload_iam.backup_role_arn
  storage_class_name        = module.storage_class.name
  ingress_class             = module.alb_controller.ingress_class
  load_balancer_name        = local.load_balancer_name
  ingress_source_cidrs      = local.alb_source_cidrs
  ingress_annotations       = var.cdn_enabled ? module.cdn[0].ingress_annotations : {}
  ingress_host              = var.ingress_host
  certificate_arn           = var.certificate_arn
  operator_values           = var.operator_values
  platform_values           = var.platform_values
  platform_secret_name      = var.platform_secret_name

  feedback_database_secret_name = var.postgres_enabled ? local.feedback_database_secret_name : null

  depends_on = [module.alb_controller, module.storage_class, module.github_ci]
}

# The roles .github/workflows/ci.yml assumes to push images and deploy, for one GitHub repository
# (off while github_repository is null).
module "github_ci" {
  source = "../modules/github-ci"
  count  = var.github_repository == null ? 0 : 1

  name                  = local.name
  role_names            = local.delivery.roles
  github_repository     = var.github_repository
  github_environment    = var.environment
  oidc_provider_arn     = var.github_oidc_provider_arn
  ecr_repository_arns   = [for name in values(local.ecr_repositories) : module.ecr.repository_arns[name]]
  cluster_name          = module.eks.cluster_name
  cluster_arn           = module.eks.cluster_arn
  namespaces            = distinct([local.delivery.releases.operator.namespace, var.namespace])
  operator_cluster_role = local.delivery.releases.operator.name

  tags = local.tags

  depends_on = [module.eks]
}
