# The feedback database's guarantees, planned against a mocked AWS provider.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name                      = "sora-test"
  vpc_id                    = "vpc-0123456789abcdef0"
  subnet_ids                = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  client_security_group_ids = ["sg-0cccccccccccccccc"]
  alarm_topic_arn           = "arn:aws:sns:ap-northeast-1:123456789012:sora-test-alerts"
}

run "private_encrypted_tls_multi_az" {
  command = plan

  assert {
    condition     = aws_db_instance.this.multi_az && !aws_db_instance.this.publicly_accessible
    error_message = "the instance must be Multi-AZ and private"
  }

  assert {
    condition     = aws_db_instance.this.storage_encrypted && aws_db_instance.this.manage_master_user_password
    error_message = "storage must be encrypted and the password kept by RDS in Secrets Manager"
  }

  assert {
    condition     = anytrue([for p in aws_db_parameter_group.this.parameter : p.name == "rds.force_ssl" && p.value == "1"])
    error_message = "TLS must be required (rds.force_ssl)"
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.clients) == 1 && aws_vpc_security_group_ingress_rule.clients["sg-0cccccccccccccccc"].from_port == 5432
    error_message = "only the given security group may reach the port"
  }

  assert {
    condition     = aws_db_instance.this.backup_retention_period >= 1 && aws_db_instance.this.deletion_protection
    error_message = "backups with point-in-time recovery and deletion protection are the defaults"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 3
    error_message = "CPU, free storage and connections each have an alarm"
  }
}

run "backups_cannot_be_turned_off" {
  command = plan

  variables {
    backup_retention_days = 0
  }

  expect_failures = [var.backup_retention_days]
}
