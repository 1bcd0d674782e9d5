output "environment" {
  description = "Environment of this state."
  value       = var.environment
}

output "aws_region" {
  description = "AWS region of the platform."
  value       = data.aws_region.current.region
}

output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.eks.cluster_endpoint
}

output "kubeconfig_command" {
  description = "Command that adds the cluster to your kubeconfig."
  value       = "aws eks update-kubeconfig --region ${data.aws_region.current.region} --name ${module.eks.cluster_name} --alias ${module.eks.cluster_name}"
}

output "ecr_login_command" {
  description = "Command that logs Docker in to the ECR registry."
  value       = "aws ecr get-login-password --region ${data.aws_region.current.region} | docker login --username AWS --password-stdin ${split("/", module.ecr.repository_urls[local.ecr_repositories.services])[0]}"
}

output "ecr_repository_urls" {
  description = "Image repositories: services (all Sora services, one image) and operator."
  value       = { for key, name in local.ecr_repositories : key => module.ecr.repository_urls[name] }
}

output "files_bucket_name" {
  description = "Files bucket: SoraDeployment fileServer S3 bucket (S3_BUCKET)."
  value       = module.storage.files_bucket_name
}

output "backup_bucket_name" {
  description = "Backup bucket: SoraDeployment backup bucket (BACKUP_BUCKET)."
  value       = module.storage.backup_bucket_name
}

output "backup_prefix" {
  description = "Prefix of the backups (BACKUP_PREFIX); the backup role can use nothing else."
  value       = local.backup_prefix
}

output "file_server_role_arn" {
  description = "IRSA role of the file server: annotation eks.amazonaws.com/role-arn on its service account (SoraDeployment fileServer)."
  value       = module.workload_iam.file_server_role_arn
}

output "backup_role_arn" {
  description = "IRSA role of the backup and restore jobs: annotation eks.amazonaws.com/role-arn on their service account (SoraDeployment backup)."
  value       = module.workload_iam.backup_role_arn
}

output "storage_class_name" {
  description = "Encrypted gp3 StorageClass for the feedback database volume (SoraDeployment feedbackApi)."
  value       = module.storage_class.name
}

output "ingress_class_name" {
  description = "Ingress class of the AWS Load Balancer Controller (SoraDeployment ingress)."
  value       = module.alb_controller.ingress_class
}

output "load_balancer_name" {
  description = "Name to give the ALB with the Ingress annotation alb.ingress.kubernetes.io/load-balancer-name, so that the ALB alarms find it."
  value       = local.load_balancer_name
}

output "service_log_group_names" {
  description = "CloudWatch log group of each Sora service: /sora/<environment>/<service>, kept 30 days in prod and 7 elsewhere."
  value       = module.monitoring.service_log_group_names
}

output "alerts_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.monitoring.sns_topic_arn
}

output "soradeployment_settings" {
  description = "Everything a SoraDeployment for this environment needs from AWS, in one map."
  value = {
    namespace                  = var.namespace
    environment                = var.environment
    services_image_repository  = module.ecr.repository_urls[local.ecr_repositories.services]
    operator_image_repository  = module.ecr.repository_urls[local.ecr_repositories.operator]
    region                     = data.aws_region.current.region
    files_bucket               = module.storage.files_bucket_name
    file_server_role_arn       = module.workload_iam.file_server_role_arn
    file_server_serviceaccount = local.file_server_service_accounts
    backup_bucket              = module.storage.backup_bucket_name
    backup_prefix              = local.backup_prefix
    backup_role_arn            = module.workload_iam.backup_role_arn
    backup_serviceaccount      = local.backup_service_accounts
    storage_class              = module.storage_class.name
    ingress_class              = module.alb_controller.ingress_class
    load_balancer_name         = local.load_balancer_name
    ingress_source_cidrs       = local.alb_source_cidrs
  }
}

output "platform_keys_secret_name" {
  description = "The Secrets Manager secret with ENCRYPTION_KEY, IP_SALT and ADMIN_TOKEN (escrowed outside the cluster)."
  value       = module.platform_keys.secret_name
}

output "platform_keys_read_policy_json" {
  description = "IAM policy to read and decrypt that secret, for the role that syncs it into the cluster."
  value       = module.platform_keys.read_policy_json
}

output "github_ci_roles" {
  description = "Roles of .github/workflows/ci.yml (null without github_repository): push and deploy ARNs, and the OIDC provider to pass as github_oidc_provider_arn to the account's other environments."
  value = var.github_repository == null ? null : {
    push_role_arn     = module.github_ci[0].push_role_arn
    deploy_role_arn   = module.github_ci[0].deploy_role_arn
    oidc_provider_arn = module.github_ci[0].oidc_provider_arn
  }
}

output "cdn" {
  description = "The CloudFront distribution (null unless cdn_enabled): its domain name for the aliases' DNS records, and its ID for invalidations."
  value = var.cdn_enabled ? {
    domain_name     = module.cdn[0].domain_name
    distribution_id = module.cdn[0].distribution_id
  } : null
}

output "feedback_database" {
  description = "The feedback API's PostgreSQL (postgres_enabled): address, port, database, the Secrets Manager secret of its master password and the Kubernetes Secret holding DATABASE_URL. null with SQLite."
  value = var.postgres_enabled ? {
    address                = module.postgres[0].address
    port                   = module.postgres[0].port
    database_name          = module.postgres[0].database_name
    master_user_secret_arn = module.postgres[0].master_user_secret_arn
    kubernetes_secret_name = local.feedback_database_secret_name
  } : null
}
