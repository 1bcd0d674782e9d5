# Development: one NAT gateway, spot nodes, 7-day logs, 365-day file expiry, mutable image tags.
environment = "dev"
aws_region  = "ap-northeast-1"

# Where kubectl and Terraform run from (replace with your own address or your VPN's range).
cluster_endpoint_public_access_cidrs = ["203.0.113.0/24"]

# A throw-away environment: let destroy remove buckets and repositories with their content.
force_destroy = true

alert_email = null
