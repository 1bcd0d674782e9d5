# Staging: like dev (one NAT gateway, spot nodes, 7-day logs), but data is kept on destroy.
environment = "staging"
aws_region  = "ap-northeast-1"

cluster_endpoint_public_access_cidrs = ["203.0.113.0/24"]

alert_email = null
