variable "name" {
  description = "Prefix of every name (\"<project>-<environment>\")."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 2-41 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "origin_domain_name" {
  description = "DNS name of the ALB that CloudFront connects to over HTTPS: a name that resolves to the ALB and that the ALB's certificate covers (for example origin.api.sora.example.com)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$", var.origin_domain_name))
    error_message = "origin_domain_name must be a DNS name."
  }
}

variable "aliases" {
  description = "Host names the distribution answers (the seed's domain, e.g. api.sora.example.com); point them at the distribution. Empty: its *.cloudfront.net name only."
  type        = list(string)
  default     = []
}

variable "certificate_arn" {
  description = "ACM certificate in us-east-1 covering the aliases. null: CloudFront's own certificate (only without aliases)."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/", coalesce(var.certificate_arn, "x")))
    error_message = "certificate_arn must be an ACM certificate in us-east-1 (CloudFront reads certificates there only)."
  }
}

variable "price_class" {
  description = "Edge locations to serve from (PriceClass_100: North America and Europe; PriceClass_200 adds Asia, where the seed's users are; PriceClass_All)."
  type        = string
  default     = "PriceClass_200"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "catalog_max_ttl_seconds" {
  description = "Longest an edge keeps a catalog response, whatever its Cache-Control says (the file server sends max-age=30)."
  type        = number
  default     = 300
}

variable "package_max_ttl_seconds" {
  description = "Longest an edge keeps a package download, whatever its Cache-Control says."
  type        = number
  default     = 86400
}

variable "web_acl_id" {
  description = "ARN of a WAFv2 web ACL (scope CLOUDFRONT) to attach. null: none."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "VPC of the ALB (for its security group)."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of that VPC: the ALB may reach the pods there."
  type        = string
}

variable "log_bucket_arn" {
  description = "ARN of the bucket receiving the access logs (module storage's access-log bucket, which must allow cloudfront_log_prefix)."
  type        = string
}

variable "log_prefix" {
  description = "Prefix of the access logs in that bucket."
  type        = string
  default     = "cloudfront"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
