# The distribution's behaviour, planned against mocked providers (no AWS account).

mock_provider "aws" {
  mock_data "aws_ec2_managed_prefix_list" {
    defaults = {
      id = "pl-58a04531"
    }
  }
}

mock_provider "aws" {
  alias = "us_east_1"
}

variables {
  name               = "sora-prod"
  origin_domain_name = "origin.api.sora.example.com"
  vpc_id             = "vpc-0123456789abcdef0"
  vpc_cidr           = "10.0.0.0/16"
  log_bucket_arn     = "arn:aws:s3:::sora-prod-s3-logs-123456789012-ap-northeast-1"
}

run "catalog_and_packages_are_cached_the_rest_passes_through" {
  command = plan

  assert {
    condition     = [for behavior in aws_cloudfront_distribution.this.ordered_cache_behavior : behavior.path_pattern] == ["/api/extensions/*/download*", "/api/layouts/*/download*", "/api/extensions*", "/api/layouts*"]
    error_message = "The package paths come before the catalog paths that would also match them."
  }

  assert {
    condition     = aws_cloudfront_cache_policy.this["catalog"].default_ttl == 0 && aws_cloudfront_cache_policy.this["catalog"].max_ttl == 300
    error_message = "The catalog is cached only as long as its Cache-Control says, at most 300 s."
  }

  assert {
    condition     = contains(aws_cloudfront_distribution.this.default_cache_behavior[0].allowed_methods, "POST")
    error_message = "The default behaviour passes feedback POSTs through."
  }

  assert {
    condition     = aws_cloudfront_distribution.this.default_cache_behavior[0].viewer_protocol_policy == "redirect-to-https"
    error_message = "Viewers are sent to HTTPS."
  }
}

run "the_alb_accepts_cloudfront_only" {
  command = plan

  assert {
    condition     = aws_vpc_security_group_ingress_rule.https_from_cloudfront.prefix_list_id == "pl-58a04531" && aws_vpc_security_group_ingress_rule.https_from_cloudfront.from_port == 443
    error_message = "The ALB's security group admits HTTPS from CloudFront's managed prefix list only."
  }

  assert {
    condition     = aws_cloudwatch_log_delivery_destination.this.delivery_destination_configuration[0].destination_resource_arn == "arn:aws:s3:::sora-prod-s3-logs-123456789012-ap-northeast-1/cloudfront"
    error_message = "Access logs go to the access-log bucket under cloudfront/."
  }
}

run "aliases_need_a_certificate_in_us_east_1" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:ap-northeast-1:123456789012:certificate/0a1b2c3d"
  }

  expect_failures = [var.certificate_arn]
}
