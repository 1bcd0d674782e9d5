output "name" {
  description = "Name of the StorageClass."
  value       = kubernetes_storage_class_v1.this.metadata[0].name
}
