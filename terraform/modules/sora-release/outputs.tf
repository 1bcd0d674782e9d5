output "operator_release" {
  description = "Name, namespace and chart version of the operator release."
  value = {
    name      = helm_release.operator.name
    namespace = helm_release.operator.namespace
    version   = helm_release.operator.version
  }
}

output "platform_release" {
  description = "Name, namespace and chart version of the platform release."
  value = {
    name      = helm_release.platform.name
    namespace = helm_release.platform.namespace
    version   = helm_release.platform.version
  }
}

output "backup" {
  description = "The backup section of the SoraDeployment the platform release renders: enabled unless backup_enabled is false, into backup_bucket_name under backup_prefix."
  value       = local.backup_values
}
