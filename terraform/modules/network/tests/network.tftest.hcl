# The seed's NAT rule, planned and applied against a mocked AWS provider (no account needed):
# one NAT gateway per availability zone in prod, a single shared one elsewhere.

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["ap-northeast-1a", "ap-northeast-1c"]
    }
  }

  mock_data "aws_region" {
    defaults = {
      region = "ap-northeast-1"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  # The provider checks that these are ARNs when the flow log is applied.
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/vpc/sora-test/flow-logs"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/sora-test-flow-logs"
    }
  }
}

variables {
  name                 = "sora-test"
  cluster_name         = "sora-test"
  availability_zones   = ["ap-northeast-1a", "ap-northeast-1c"]
  flow_log_kms_key_arn = "arn:aws:kms:ap-northeast-1:123456789012:key/00000000-0000-0000-0000-000000000000"
}

run "single_nat_gateway_serves_every_private_subnet" {
  command = apply

  variables {
    one_nat_gateway_per_az = false
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1
    error_message = "Outside prod there must be exactly one NAT gateway."
  }

  assert {
    condition     = alltrue([for route in aws_route.private_nat : route.nat_gateway_id == aws_nat_gateway.this[0].id])
    error_message = "Every private route table must use the single NAT gateway."
  }
}

run "one_nat_gateway_per_availability_zone" {
  command = apply

  variables {
    one_nat_gateway_per_az = true
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 2
    error_message = "In prod there must be one NAT gateway per availability zone."
  }

  assert {
    condition     = alltrue([for index, route in aws_route.private_nat : route.nat_gateway_id == aws_nat_gateway.this[index].id])
    error_message = "Each private route table must use the NAT gateway of its own zone."
  }

  assert {
    condition     = alltrue([for index, gateway in aws_nat_gateway.this : gateway.subnet_id == aws_subnet.public[index].id])
    error_message = "Each NAT gateway must sit in the public subnet of its zone."
  }
}

run "subnets_carry_the_load_balancer_controller_tags" {
  command = plan

  variables {
    one_nat_gateway_per_az = false
  }

  assert {
    condition     = alltrue([for subnet in aws_subnet.public : subnet.tags["kubernetes.io/role/elb"] == "1"])
    error_message = "Public subnets must be tagged kubernetes.io/role/elb for internet-facing ALBs."
  }

  assert {
    condition     = alltrue([for subnet in aws_subnet.private : subnet.tags["kubernetes.io/role/internal-elb"] == "1"])
    error_message = "Private subnets must be tagged kubernetes.io/role/internal-elb."
  }

  assert {
    condition     = [for subnet in aws_subnet.private : subnet.availability_zone] == ["ap-northeast-1a", "ap-northeast-1c"]
    error_message = "Private subnets must follow availability_zones, in order."
  }
}

run "subnet_count_must_match_the_zones" {
  command = plan

  variables {
    one_nat_gateway_per_az = false
    public_subnet_cidrs    = ["10.0.1.0/24"]
  }

  expect_failures = [var.public_subnet_cidrs]
}
