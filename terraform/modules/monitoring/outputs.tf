output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the log groups and the alerts topic; pass it to other modules' log groups."
  value       = aws_kms_key.this.arn
}

output "sns_topic_arn" {
  description = "ARN of the SNS topic every alarm notifies."
  value       = aws_sns_topic.alerts.arn
}

output "container_insights_log_group_names" {
  description = "Names of the Container Insights log groups, by kind (application, dataplane, host, performance)."
  value       = { for kind, group in aws_cloudwatch_log_group.container_insights : kind => group.name }
}

output "alarm_names" {
  description = "Names of every alarm this module created."
  value = concat(
    [for alarm in aws_cloudwatch_metric_alarm.workload_cpu : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.workload_memory : alarm.alarm_name],
    aws_cloudwatch_metric_alarm.alb_5xx[*].alarm_name,
    aws_cloudwatch_metric_alarm.alb_response_time[*].alarm_name,
  )
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "service_log_group_names" {
  description = "Log group of each Sora service (/sora/<environment>/<service>), and \"other\" for pods without a component label."
  value       = { for service, group in aws_cloudwatch_log_group.service : service => group.name }
}

output "fluent_bit_application_config" {
  description = "Fluent Bit application-log.conf for the CloudWatch Observability add-on: Sora pods into their service's log group, other containers as the add-on does."
  value       = local.fluent_bit_application_config
}
