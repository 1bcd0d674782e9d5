# Every difference between the environments, decided in one place (the seed's
# `var.environment == "prod" ? ... : ...` expressions, gathered).
locals {
  name    = "${var.project}-${var.environment}"
  is_prod = var.environment == "prod"

  settings = {
    # Network: a NAT gateway per AZ in prod; one shared NAT gateway elsewhere (cost).
    one_nat_gateway_per_az = local.is_prod

    # Nodes: on-demand in prod; spot elsewhere, over several instance types of the same size.
    node_capacity_type  = local.is_prod ? "ON_DEMAND" : "SPOT"
    node_instance_types = var.node_instance_types != null ? var.node_instance_types : (local.is_prod ? ["m6i.large"] : ["t3.large", "t3a.large", "m5.large", "m5a.large", "m6i.large"])
    # The cluster autoscaler moves the size between min and max. The max holds the file server's
    # HPA at its maximum (prod 10 pods x 512m/1Gi, else 3 x 256m/512Mi) beside everything else
    # (docs/autoscaling.md, "Capacity"), with one node spare for a rollout's surge pod.
    node_min_size     = local.is_prod ? 2 : 1
    node_desired_size = 2
    node_max_size     = local.is_prod ? 8 : 3

    # Files bucket: objects kept seven years in prod, one year elsewhere.
    files_expiration_days = local.is_prod ? 2555 : 365

    # Backups: sora-backup prunes; what it deleted stays recoverable this long (the bucket's own
    # retention, beyond the reach of the backup role).
    backup_noncurrent_days = local.is_prod ? 90 : 30

    # Logs: 30 days in prod, 7 elsewhere.
    log_retention_days = local.is_prod ? 30 : 7

    # Images: a tag pushed to prod can never be re-pointed.
    image_tag_mutability = local.is_prod ? "IMMUTABLE" : "MUTABLE"

    # The optional PostgreSQL (postgres_enabled): Multi-AZ, protected from deletion and
    # 30 days of point-in-time recovery in prod; one zone, 7 days, deletable elsewhere.
    postgres_multi_az              = local.is_prod
    postgres_deletion_protection   = local.is_prod
    postgres_backup_retention_days = local.is_prod ? 30 : 7
    postgres_instance_class        = local.is_prod ? "db.m7g.large" : "db.t4g.medium"
  }

  # The Kubernetes Secret holding the feedback API's DATABASE_URL (key "url").
  feedback_database_secret_name = "${var.sora_deployment_name}-feedback-database"

  cluster_name  = local.name
  backup_prefix = coalesce(var.backup_prefix, "database/${var.environment}/")

  # The service accounts the operator creates for a SoraDeployment named var.sora_deployment_name.
  file_server_service_accounts = var.file_server_service_accounts != null ? var.file_server_service_accounts : ["${var.namespace}:${var.sora_deployment_name}-file-server"]
  backup_service_accounts      = var.backup_service_accounts != null ? var.backup_service_accounts : ["${var.namespace}:${var.sora_deployment_name}-backup"]

  # The names CI shares with Terraform (image repositories, releases, role names, which branch
  # deploys where): one file, read here and by hack/delivery.py for .github/workflows/ci.yml.
  delivery = jsondecode(file("${path.module}/../delivery.json"))

  ecr_repositories = { for image in keys(local.delivery.images) : image => "${local.name}/${image}" }

  # Where the ALB's traffic reaches the pods from (target type ip): the public subnets it is placed
  # in, unless the variable says otherwise.
  alb_source_cidrs = var.alb_source_cidrs != null ? var.alb_source_cidrs : module.network.public_subnet_cidrs

  # CloudFront's access logs, in the access-log bucket (module cdn).
  cdn_log_prefix = "cloudfront"

  # The ALB made from the SoraDeployment's Ingress gets this name (annotation
  # alb.ingress.kubernetes.io/load-balancer-name), so that alarms can find it.
  load_balancer_name = local.name

  tags = { Component = "sora-platform" }
}
