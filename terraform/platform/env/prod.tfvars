# Production: a NAT gateway per AZ, on-demand nodes, 30-day logs, seven-year file expiry,
# immutable image tags.
environment = "prod"
aws_region  = "ap-northeast-1"

cluster_endpoint_public_access_cidrs = ["203.0.113.0/24"]

# The seed's domain; the certificate must be issued in ACM in the same region.
ingress_host    = "api.sora.example.com"
certificate_arn = null

alert_email = "ops@example.com"
