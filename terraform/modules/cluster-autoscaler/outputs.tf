output "role_arn" {
  description = "IRSA role of the cluster autoscaler."
  value       = module.role.arn
}

output "image_tag" {
  description = "Image tag of the autoscaler that runs."
  value       = local.image_tag
}
