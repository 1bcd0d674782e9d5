output "distribution_id" {
  description = "ID of the CloudFront distribution (for invalidations: aws cloudfront create-invalidation --distribution-id ...)."
  value       = aws_cloudfront_distribution.this.id
}

output "domain_name" {
  description = "The distribution's *.cloudfront.net name: the target of the aliases' DNS records."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "alb_security_group_id" {
  description = "Security group that admits only CloudFront: the Ingress names it (alb.ingress.kubernetes.io/security-groups)."
  value       = aws_security_group.alb.id
}

output "ingress_annotations" {
  description = "Annotations that put the ALB behind this security group (the SoraDeployment's ingress.annotations)."
  value = {
    "alb.ingress.kubernetes.io/security-groups"                     = aws_security_group.alb.id
    "alb.ingress.kubernetes.io/manage-backend-security-group-rules" = "true"
  }
}
