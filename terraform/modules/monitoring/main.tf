# The seed's CloudWatch set-up, moved from ECS to EKS: one KMS key for logs and alerts, the SNS
# topic (with an optional e-mail subscription), the log groups Container Insights writes to (so
# their retention is ours: 30 days in prod, 7 elsewhere), alarms on CPU > 80 %, memory > 85 %
# (Container Insights), 5xx > 10 and response time > 2 s (the ALB), and a dashboard.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  # The log groups the CloudWatch Observability add-on (Container Insights and Fluent Bit) writes
  # to. Created here first so that Terraform owns their retention and encryption.
  container_insights_log_groups = toset(["application", "dataplane", "host", "performance"])

  # One log group per Sora service (the pods' app.kubernetes.io/component label), as the seed's
  # per-service groups, plus one for a pod without the label; Fluent Bit writes to them and
  # never creates groups, so the retention here is the one that applies.
  service_log_group_prefix = "/sora/${var.environment}"
  service_log_groups = {
    for service in concat(var.log_services, ["other"]) : service => "${local.service_log_group_prefix}/${service}"
  }

  fluent_bit_application_config = templatefile("${path.module}/fluent-bit/application-log.conf.tftpl", {
    namespace          = var.namespace
    environment        = var.environment
    log_group_prefix   = local.service_log_group_prefix
    fallback_log_group = local.service_log_groups["other"]
  })

  alarm_actions = [aws_sns_topic.alerts.arn]

  alb_enabled      = var.load_balancer_name != null
  alb_arn_suffix   = local.alb_enabled ? data.aws_lb.ingress[0].arn_suffix : null
  alb_metric_dims  = local.alb_enabled ? { LoadBalancer = local.alb_arn_suffix } : {}
  workload_metrics = { for key, pod in var.workloads : key => { ClusterName = var.cluster_name, Namespace = var.namespace, PodName = pod } }
}

# --- KMS key for the log groups and the SNS topic -------------------------------------------------

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

  statement {
    sid = "CloudWatchLogsEncryptsThisAccountsLogGroups"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToTheEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name}: CloudWatch log groups and the alerts SNS topic"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-observability"
  target_key_id = aws_kms_key.this.key_id
}

# --- Alerts -----------------------------------------------------------------------------------------

resource "aws_sns_topic" "alerts" {
  name              = "${var.name}-alerts"
  kms_master_key_id = aws_kms_key.this.arn

  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alert_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

# --- Log groups -------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "container_insights" {
  #checkov:skip=CKV_AWS_338:Retention follows the seed's rule (30 days in prod, 7 elsewhere); longer keeping is a cost decision per environment.
  for_each = local.container_insights_log_groups

  name              = "/aws/containerinsights/${var.cluster_name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "service" {
  #checkov:skip=CKV_AWS_338:Retention follows the seed's rule (30 days in prod, 7 elsewhere); longer keeping is a cost decision per environment.
  for_each = local.service_log_groups

  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn

  tags = merge(var.tags, { Service = each.key })
}

# --- Workload alarms (Container Insights) -----------------------------------------------------------

# Utilisation over the pod's own limit is the EKS counterpart of ECS's CPUUtilization and
# MemoryUtilization, which are relative to the task's reservation.
resource "aws_cloudwatch_metric_alarm" "workload_cpu" {
  for_each = local.workload_metrics

  alarm_name          = "${var.name}-${each.key}-high-cpu"
  alarm_description   = "CPU of ${each.key} above ${var.cpu_threshold_percent} % of its limit for ${var.alarm_evaluation_periods} x ${var.alarm_period_seconds} s."
  namespace           = "ContainerInsights"
  metric_name         = "pod_cpu_utilization_over_pod_limit"
  dimensions          = each.value
  statistic           = "Average"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.cpu_threshold_percent
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "workload_memory" {
  for_each = local.workload_metrics

  alarm_name          = "${var.name}-${each.key}-high-memory"
  alarm_description   = "Memory of ${each.key} above ${var.memory_threshold_percent} % of its limit for ${var.alarm_evaluation_periods} x ${var.alarm_period_seconds} s."
  namespace           = "ContainerInsights"
  metric_name         = "pod_memory_utilization_over_pod_limit"
  dimensions          = each.value
  statistic           = "Average"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.memory_threshold_percent
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# --- Load balancer alarms ---------------------------------------------------------------------------

# The ALB belongs to the AWS Load Balancer Controller (it is made from the SoraDeployment's
# Ingress), so it is looked up by name once it exists: see load_balancer_name.
data "aws_lb" "ingress" {
  count = local.alb_enabled ? 1 : 0

  name = var.load_balancer_name
}

resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  count = local.alb_enabled ? 1 : 0

  alarm_name          = "${var.name}-alb-high-5xx"
  alarm_description   = "More than ${var.http_5xx_threshold} target 5xx responses per ${var.alarm_period_seconds} s, ${var.alarm_evaluation_periods} periods in a row."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = local.alb_metric_dims
  statistic           = "Sum"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.http_5xx_threshold
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "alb_response_time" {
  count = local.alb_enabled ? 1 : 0

  alarm_name          = "${var.name}-alb-high-response-time"
  alarm_description   = "Average target response time above ${var.response_time_threshold_seconds} s for ${var.alarm_evaluation_periods} x ${var.alarm_period_seconds} s."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = local.alb_metric_dims
  statistic           = "Average"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.response_time_threshold_seconds
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# --- Dashboard --------------------------------------------------------------------------------------

locals {
  workload_widgets = [
    for index, key in sort(keys(var.workloads)) : {
      type   = "metric"
      x      = 0
      y      = index * 6
      width  = 12
      height = 6
      properties = {
        title  = "${key}: CPU and memory over limit (%)"
        region = local.region
        view   = "timeSeries"
        period = var.alarm_period_seconds
        metrics = [
          ["ContainerInsights", "pod_cpu_utilization_over_pod_limit", "ClusterName", var.cluster_name, "Namespace", var.namespace, "PodName", var.workloads[key]],
          ["ContainerInsights", "pod_memory_utilization_over_pod_limit", "ClusterName", var.cluster_name, "Namespace", var.namespace, "PodName", var.workloads[key]],
        ]
      }
    }
  ]

  alb_widgets = local.alb_enabled ? [
    {
      type   = "metric"
      x      = 12
      y      = 0
      width  = 12
      height = 6
      properties = {
        title  = "Application Load Balancer"
        region = local.region
        view   = "timeSeries"
        period = var.alarm_period_seconds
        metrics = [
          ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", local.alb_arn_suffix],
          ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", local.alb_arn_suffix],
          ["AWS/ApplicationELB", "HTTPCode_Target_2XX_Count", "LoadBalancer", local.alb_arn_suffix],
          ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", local.alb_arn_suffix],
        ]
      }
    }
  ] : []
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name}-platform"
  dashboard_body = jsonencode({ widgets = concat(local.workload_widgets, local.alb_widgets) })
}
