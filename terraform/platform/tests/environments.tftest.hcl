# Per-environment behaviour of the whole platform, planned against mocked providers (no AWS
# account, no cluster): the seed's cost rules outside prod, its durability rules in prod.

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["ap-northeast-1a", "ap-northeast-1c"]
    }
  }

  mock_data "aws_region" {
    defaults = {
      region = "ap-northeast-1"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
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

  mock_data "aws_eks_addon_version" {
    defaults = {
      version = "v1.0.0-eksbuild.1"
    }
  }

  mock_data "aws_lb" {
    defaults = {
      arn_suffix = "app/sora-test/0123456789abcdef"
    }
  }
}

mock_provider "aws" {
  alias = "us_east_1"
}

mock_provider "kubernetes" {}

mock_provider "helm" {}

# The Kubernetes and Helm providers are configured from the cluster's endpoint and certificate.
override_resource {
  target = module.eks.aws_eks_cluster.this
  values = {
    endpoint = "https://0123456789ABCDEF.gr7.ap-northeast-1.eks.amazonaws.com"
    certificate_authority = [{
      data = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="
    }]
    identity = [{
      oidc = [{
        issuer = "https://oidc.eks.ap-northeast-1.amazonaws.com/id/0123456789ABCDEF"
      }]
    }]
  }
}

variables {
  cluster_endpoint_public_access_cidrs = ["203.0.113.0/24"]
}

run "dev_saves_cost" {
  command = plan

  variables {
    environment = "dev"
  }

  assert {
    condition     = length(module.network.nat_gateway_ids) == 1
    error_message = "dev must have a single NAT gateway."
  }

  assert {
    condition     = module.eks.node_group_capacity_type == "SPOT"
    error_message = "dev nodes must be spot instances."
  }

  assert {
    condition     = module.storage.files_expiration_days == 365
    error_message = "dev files must expire after 365 days."
  }

  assert {
    condition     = keys(module.storage.files_transition_days) == ["30", "90"]
    error_message = "dev files move to IA at 30 days and Glacier at 90 (Deep Archive would fall on the expiry day)."
  }

  assert {
    condition     = local.settings.log_retention_days == 7
    error_message = "dev logs must be kept 7 days."
  }

  assert {
    condition     = local.settings.image_tag_mutability == "MUTABLE"
    error_message = "dev image tags stay mutable."
  }
}

run "staging_saves_cost_like_dev" {
  command = plan

  variables {
    environment = "staging"
  }

  assert {
    condition     = length(module.network.nat_gateway_ids) == 1
    error_message = "staging must have a single NAT gateway."
  }

  assert {
    condition     = module.eks.node_group_capacity_type == "SPOT"
    error_message = "staging nodes must be spot instances."
  }

  assert {
    condition     = module.storage.files_expiration_days == 365
    error_message = "staging files must expire after 365 days."
  }

  assert {
    condition     = local.settings.log_retention_days == 7
    error_message = "staging logs must be kept 7 days."
  }
}

run "prod_is_durable" {
  command = plan

  variables {
    environment = "prod"
  }

  assert {
    condition     = length(module.network.nat_gateway_ids) == 2
    error_message = "prod must have one NAT gateway per availability zone."
  }

  assert {
    condition     = module.eks.node_group_capacity_type == "ON_DEMAND"
    error_message = "prod nodes must be on-demand."
  }

  assert {
    condition     = module.storage.files_expiration_days == 2555
    error_message = "prod files must expire after 2555 days."
  }

  assert {
    condition     = module.storage.files_transition_days == { "30" = "STANDARD_IA", "90" = "GLACIER", "365" = "DEEP_ARCHIVE" }
    error_message = "prod files move to IA at 30 days, Glacier at 90, Deep Archive at 365."
  }

  assert {
    condition     = local.settings.log_retention_days == 30
    error_message = "prod logs must be kept 30 days."
  }

  assert {
    condition     = local.settings.image_tag_mutability == "IMMUTABLE"
    error_message = "prod image tags must be immutable."
  }
}

run "alarms_follow_the_seed" {
  command = plan

  variables {
    environment        = "prod"
    alert_email        = "ops@example.com"
    alb_alarms_enabled = true
  }

  assert {
    condition = toset(module.monitoring.alarm_names) == toset([
      "sora-prod-file-server-high-cpu",
      "sora-prod-feedback-api-high-cpu",
      "sora-prod-file-server-high-memory",
      "sora-prod-feedback-api-high-memory",
      "sora-prod-alb-high-5xx",
      "sora-prod-alb-high-response-time",
    ])
    error_message = "CPU and memory alarms per workload, and the ALB 5xx and response-time alarms, are expected."
  }
}

run "outputs_name_what_a_soradeployment_needs" {
  command = plan

  variables {
    environment = "staging"
  }

  assert {
    condition     = output.cluster_name == "sora-staging"
    error_message = "The cluster is named <project>-<environment>."
  }

  assert {
    condition     = output.kubeconfig_command == "aws eks update-kubeconfig --region ap-northeast-1 --name sora-staging --alias sora-staging"
    error_message = "The kubeconfig command must name the cluster and its region."
  }

  assert {
    condition     = output.backup_prefix == "database/staging/"
    error_message = "Backups go under the seed's database/<environment>/ prefix."
  }

  assert {
    condition     = output.storage_class_name == "gp3-encrypted"
    error_message = "The encrypted gp3 StorageClass must be offered for the database volume."
  }
}

run "the_sora_charts_are_optional" {
  command = plan

  variables {
    environment = "dev"
  }

  assert {
    condition     = length(module.sora) == 0
    error_message = "The Sora Helm releases must be off unless deploy_sora is set."
  }
}

run "the_sora_charts_install_when_asked" {
  command = plan

  variables {
    environment = "dev"
    deploy_sora = true
    image_tag   = "0.1.0"
  }

  assert {
    condition     = length(module.sora) == 1
    error_message = "deploy_sora must add the operator and platform releases."
  }

  # The documented path backs up without anyone asking: on, into the platform's backup bucket.
  assert {
    condition     = module.sora[0].backup.enabled && module.sora[0].backup.bucket == module.storage.backup_bucket_name && module.sora[0].backup.prefix == output.backup_prefix
    error_message = "The SoraDeployment the Terraform path renders must back up into the backup bucket."
  }
}

run "an_unknown_environment_is_refused" {
  command = plan

  variables {
    environment = "qa"
  }

  expect_failures = [var.environment]
}

run "deploying_the_charts_needs_an_image_tag" {
  command = plan

  variables {
    environment = "dev"
    deploy_sora = true
  }

  expect_failures = [var.image_tag]
}

run "nodes_autoscale_to_hold_the_file_servers" {
  command = plan

  variables {
    environment = "prod"
  }

  assert {
    condition     = length(module.cluster_autoscaler) == 1
    error_message = "The cluster autoscaler must be installed by default."
  }

  assert {
    condition     = module.eks.node_group_min_size == 2 && module.eks.node_group_max_size == 8
    error_message = "prod nodes scale between 2 and 8 (room for 10 file servers, docs/autoscaling.md)."
  }

  assert {
    condition     = module.cluster_autoscaler[0].image_tag == "v1.35.0"
    error_message = "The autoscaler's minor version must be the cluster's."
  }
}

run "ci_roles_are_named_from_delivery_json" {
  command = plan

  variables {
    environment       = "prod"
    github_repository = "example/sora"
  }

  assert {
    condition     = module.github_ci[0].push_role_name == "sora-prod-github-push"
    error_message = "The push role is <project>-<environment>-<roles.push of terraform/delivery.json>."
  }

  assert {
    condition     = module.github_ci[0].deploy_role_name == "sora-prod-github-deploy"
    error_message = "The deploy role is <project>-<environment>-<roles.deploy of terraform/delivery.json>."
  }

  assert {
    condition     = keys(output.ecr_repository_urls) == ["operator", "services"]
    error_message = "One repository per image of terraform/delivery.json."
  }
}

run "ci_roles_are_off_without_a_repository" {
  command = plan

  variables {
    environment = "dev"
  }

  assert {
    condition     = length(module.github_ci) == 0 && output.github_ci_roles == null
    error_message = "No CI roles unless github_repository is set."
  }
}

run "network_policies_are_enforced_and_admit_the_alb" {
  command = plan

  variables {
    environment = "prod"
  }

  assert {
    condition     = module.eks.network_policy_enforced
    error_message = "The VPC CNI add-on must run with enableNetworkPolicy."
  }

  assert {
    condition     = output.soradeployment_settings.ingress_source_cidrs == tolist(["10.0.1.0/24", "10.0.2.0/24"])
    error_message = "The ALB's source ranges default to the public subnets."
  }
}

run "every_service_logs_into_its_own_group" {
  command = plan

  variables {
    environment = "staging"
  }

  assert {
    condition     = output.service_log_group_names["file-server"] == "/sora/staging/file-server" && output.service_log_group_names["feedback-api"] == "/sora/staging/feedback-api"
    error_message = "Each service logs into /sora/<environment>/<service>."
  }

  assert {
    condition     = strcontains(module.monitoring.fluent_bit_application_config, "log_group_template  /sora/staging/$kubernetes['labels']['app.kubernetes.io/component']")
    error_message = "Fluent Bit must route the Sora pods by their component label."
  }
}

run "the_cdn_is_off_by_default" {
  command = plan

  variables {
    environment = "prod"
  }

  assert {
    condition     = length(module.cdn) == 0 && output.cdn == null
    error_message = "CloudFront must be off unless cdn_enabled is set."
  }
}

run "the_cdn_needs_an_origin_name" {
  command = plan

  variables {
    environment = "prod"
    cdn_enabled = true
  }

  expect_failures = [var.cdn_origin_domain_name]
}
