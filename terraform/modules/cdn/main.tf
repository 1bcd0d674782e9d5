# Optional CloudFront in front of the ALB, for when one origin is outgrown. Every path goes
# through the distribution so that the ALB can refuse everyone else, but only the file server's
# catalog and packages are cached:
# - catalog listings and manifests (/api/extensions*, /api/layouts*): cached for as long as the
#   file server's Cache-Control says (public, max-age=30), revalidated with its ETag
#   (If-None-Match → 304) when that runs out; nothing cached without Cache-Control;
# - packages (/api/*/*/download): the same rule with a longer ceiling;
# - feedback, recommendations, stats, admin and everything else: passed through uncached, with
#   every header, cookie and query string, and every method.
# The ALB accepts HTTPS only from CloudFront's origin-facing addresses (the AWS managed prefix
# list), through a security group the Ingress names; the access logs go to the access-log
# bucket through CloudFront's standard logging.

data "aws_ec2_managed_prefix_list" "cloudfront" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}

# AWS managed policies: no caching; and every viewer header except Host (the origin's own name
# then reaches the ALB, whose certificate is for it).
data "aws_cloudfront_cache_policy" "disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_origin_request_policy" "all_viewer_except_host" {
  name = "Managed-AllViewerExceptHostHeader"
}

locals {
  origin_id = "alb"
  # Path patterns of the file server's cacheable reads, most specific first: CloudFront uses the
  # first pattern that matches (a list, since a map would iterate in key order, which puts
  # "/api/extensions*" before its downloads).
  cached_paths = [
    { pattern = "/api/extensions/*/download*", policy = "packages" },
    { pattern = "/api/layouts/*/download*", policy = "packages" },
    { pattern = "/api/extensions*", policy = "catalog" },
    { pattern = "/api/layouts*", policy = "catalog" },
  ]
}

# Honour the origin's Cache-Control: min 0 and default 0, so that a response without one is not
# kept; the query string is part of the key (paging, ?version=).
resource "aws_cloudfront_cache_policy" "this" {
  for_each = {
    catalog  = var.catalog_max_ttl_seconds
    packages = var.package_max_ttl_seconds
  }

  name        = "${var.name}-${each.key}"
  comment     = "${var.name}: ${each.key}, as long as the file server's Cache-Control allows"
  min_ttl     = 0
  default_ttl = 0
  max_ttl     = each.value

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true

    cookies_config {
      cookie_behavior = "none"
    }

    headers_config {
      header_behavior = "none"
    }

    query_strings_config {
      query_string_behavior = "all"
    }
  }
}

resource "aws_cloudfront_response_headers_policy" "this" {
  name    = "${var.name}-security-headers"
  comment = "${var.name}: HSTS and the usual protections on every response"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = false
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_310:One origin: the ALB is the platform; a failover origin would be a second platform.
  #checkov:skip=CKV_AWS_374:The catalog is public worldwide, as the seed serves it; no geo restriction.
  #checkov:skip=CKV_AWS_305:An API, not a website: there is no root object to serve.
  #checkov:skip=CKV_AWS_68:A WAF web ACL is optional (web_acl_id); the ALB rate limits and validation stay in force.
  #checkov:skip=CKV2_AWS_47:A WAF web ACL is optional (web_acl_id); the Python services do not use Log4j.
  #checkov:skip=CKV_AWS_86:Access logs are on through CloudFront standard logging v2 (aws_cloudwatch_log_delivery below), which checkov does not read.
  enabled         = true
  is_ipv6_enabled = true
  comment         = "${var.name}: the Sora platform behind CloudFront"
  aliases         = var.aliases
  price_class     = var.price_class
  http_version    = "http2and3"
  web_acl_id      = var.web_acl_id

  origin {
    origin_id   = local.origin_id
    domain_name = var.origin_domain_name

    custom_origin_config {
      http_port                = 80
      https_port               = 443
      origin_protocol_policy   = "https-only"
      origin_ssl_protocols     = ["TLSv1.2"]
      origin_keepalive_timeout = 60
      origin_read_timeout      = 60
    }
  }

  # Everything not listed below, the feedback API and the admin panel included: uncached.
  default_cache_behavior {
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = data.aws_cloudfront_cache_policy.disabled.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this.id
    compress                   = true
  }

  dynamic "ordered_cache_behavior" {
    for_each = local.cached_paths

    content {
      path_pattern               = ordered_cache_behavior.value.pattern
      target_origin_id           = local.origin_id
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = ["GET", "HEAD", "OPTIONS"]
      cached_methods             = ["GET", "HEAD"]
      cache_policy_id            = aws_cloudfront_cache_policy.this[ordered_cache_behavior.value.policy].id
      response_headers_policy_id = aws_cloudfront_response_headers_policy.this.id
      compress                   = true
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  # The aliases' certificate (ACM, us-east-1); without aliases, CloudFront's own for
  # *.cloudfront.net. TLS 1.2 or later either way.
  viewer_certificate {
    acm_certificate_arn            = var.certificate_arn
    cloudfront_default_certificate = var.certificate_arn == null
    ssl_support_method             = var.certificate_arn == null ? null : "sni-only"
    minimum_protocol_version       = var.certificate_arn == null ? "TLSv1" : "TLSv1.2_2021"
  }

  tags = var.tags
}

# --- The ALB accepts HTTPS from CloudFront only --------------------------------------------------

resource "aws_security_group" "alb" {
  #checkov:skip=CKV2_AWS_5:The ALB is made by the load balancer controller, which attaches this group from the Ingress annotation (output ingress_annotations).
  name_prefix = "${var.name}-alb-from-cloudfront-"
  description = "${var.name}: the ALB accepts HTTPS from CloudFront's origin-facing addresses only"
  vpc_id      = var.vpc_id

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "https_from_cloudfront" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from CloudFront (AWS managed prefix list)"
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# To the pods (target type ip) in the VPC; the load balancer controller adds the matching rule on
# the pods' side (manage-backend-security-group-rules).
resource "aws_vpc_security_group_egress_rule" "to_the_vpc" {
  security_group_id = aws_security_group.alb.id
  description       = "To the pods in the VPC"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 0
  to_port           = 65535
}

# --- Access logs ---------------------------------------------------------------------------------

resource "aws_cloudwatch_log_delivery_source" "this" {
  provider = aws.us_east_1

  name         = "${var.name}-cloudfront"
  log_type     = "ACCESS_LOGS"
  resource_arn = aws_cloudfront_distribution.this.arn

  tags = var.tags
}

resource "aws_cloudwatch_log_delivery_destination" "this" {
  provider = aws.us_east_1

  name          = "${var.name}-cloudfront-logs"
  output_format = "json"

  delivery_destination_configuration {
    destination_resource_arn = "${var.log_bucket_arn}/${var.log_prefix}"
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_delivery" "this" {
  provider = aws.us_east_1

  delivery_source_name     = aws_cloudwatch_log_delivery_source.this.name
  delivery_destination_arn = aws_cloudwatch_log_delivery_destination.this.arn

  tags = var.tags
}
