# The StorageClass of the feedback database volume: gp3 through the EBS CSI driver, always
# encrypted, bound only when the pod is scheduled (so the volume is made in the pod's AZ), and
# kept on release by default: a deleted claim must not take the comments with it.

resource "kubernetes_storage_class_v1" "this" {
  metadata {
    name = var.name

    annotations = var.default_class ? { "storageclass.kubernetes.io/is-default-class" = "true" } : {}

    labels = {
      "app.kubernetes.io/managed-by" = "terraform"
    }
  }

  storage_provisioner    = "ebs.csi.aws.com"
  reclaim_policy         = var.reclaim_policy
  volume_binding_mode    = "WaitForFirstConsumer"
  allow_volume_expansion = true

  parameters = merge(
    {
      type                        = "gp3"
      encrypted                   = "true"
      "csi.storage.k8s.io/fstype" = "ext4"
    },
    var.kms_key_arn == null ? {} : { kmsKeyId = var.kms_key_arn },
  )
}
