# The AWS Load Balancer Controller: it turns the SoraDeployment's Ingress (class alb) into the
# seed's Application Load Balancer, with path rules, /health checks and ip targets.
#
# The IAM policy is the controller's published policy (v2.14) with one tightening: wherever the
# published policy accepts any elbv2.k8s.aws/cluster tag, this one requires the tag to name this
# cluster, so the controller can only change load balancers and security groups it made for it.

data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition

  cluster_tag_request  = "aws:RequestTag/elbv2.k8s.aws/cluster"
  cluster_tag_resource = "aws:ResourceTag/elbv2.k8s.aws/cluster"

  elb_arn = "arn:${local.partition}:elasticloadbalancing:*:*"
  sg_arn  = "arn:${local.partition}:ec2:*:*:security-group/*"
}

data "aws_iam_policy_document" "controller" {
  #checkov:skip=CKV_AWS_356:Describe*/Get* calls and ELB/EC2 creation calls have no resource-level scoping in IAM; creation is conditioned on the cluster tag instead.
  #checkov:skip=CKV_AWS_111:The controller's published policy: writes without a resource ARN are creations that IAM cannot scope by ARN, conditioned on the cluster's tag where IAM allows.
  #checkov:skip=CKV_AWS_109:iam:CreateServiceLinkedRole is limited to the Elastic Load Balancing service-linked role by condition.
  statement {
    sid       = "CreateTheElbServiceLinkedRole"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid = "Describe"
    actions = [
      "ec2:DescribeAccountAttributes",
      "ec2:DescribeAddresses",
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInternetGateways",
      "ec2:DescribeVpcs",
      "ec2:DescribeVpcPeeringConnections",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeInstances",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeTags",
      "ec2:GetCoipPoolUsage",
      "ec2:DescribeCoipPools",
      "ec2:GetSecurityGroupsForVpc",
      "ec2:DescribeIpamPools",
      "ec2:DescribeRouteTables",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeLoadBalancerAttributes",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeListenerCertificates",
      "elasticloadbalancing:DescribeSSLPolicies",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:DescribeTargetHealth",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTrustStores",
      "elasticloadbalancing:DescribeListenerAttributes",
      "elasticloadbalancing:DescribeCapacityReservation",
    ]
    resources = ["*"]
  }

  statement {
    sid = "CertificatesWafAndShield"
    actions = [
      "cognito-idp:DescribeUserPoolClient",
      "acm:ListCertificates",
      "acm:DescribeCertificate",
      "iam:ListServerCertificates",
      "iam:GetServerCertificate",
      "waf-regional:GetWebACL",
      "waf-regional:GetWebACLForResource",
      "waf-regional:AssociateWebACL",
      "waf-regional:DisassociateWebACL",
      "wafv2:GetWebACL",
      "wafv2:GetWebACLForResource",
      "wafv2:AssociateWebACL",
      "wafv2:DisassociateWebACL",
      "shield:GetSubscriptionState",
      "shield:DescribeProtection",
      "shield:CreateProtection",
      "shield:DeleteProtection",
    ]
    resources = ["*"]
  }

  # Ingress rules on the node security group, so that the ALB reaches the pods.
  statement {
    sid       = "OpenTheNodeSecurityGroupToTheAlb"
    actions   = ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"]
    resources = [local.sg_arn]
  }

  statement {
    sid       = "CreateSecurityGroups"
    actions   = ["ec2:CreateSecurityGroup"]
    resources = ["*"]
  }

  statement {
    sid       = "TagSecurityGroupsAtCreation"
    actions   = ["ec2:CreateTags"]
    resources = [local.sg_arn]

    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["CreateSecurityGroup"]
    }

    condition {
      test     = "StringEquals"
      variable = local.cluster_tag_request
      values   = [var.cluster_name]
    }
  }

  statement {
    sid       = "RetagOwnSecurityGroups"
    actions   = ["ec2:CreateTags", "ec2:DeleteTags"]
    resources = [local.sg_arn]

    condition {
      test     = "Null"
      variable = local.cluster_tag_request
      values   = ["true"]
    }

    condition {
      test     = "StringEquals"
      variable = local.cluster_tag_resource
      values   = [var.cluster_name]
    }
  }

  statement {
    sid       = "ManageOwnSecurityGroups"
    actions   = ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"]
    resources = [local.sg_arn]

    condition {
      test     = "StringEquals"
      variable = local.cluster_tag_resource
      values   = [var.cluster_name]
    }
  }

  statement {
    sid       = "CreateLoadBalancersForThisCluster"
    actions   = ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = local.cluster_tag_request
      values   = [var.cluster_name]
    }
  }

  statement {
    sid = "ListenersAndRules"
    actions = [
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:CreateRule",
      "elasticloadbalancing:DeleteRule",
    ]
    resources = [
      "${local.elb_arn}:loadbalancer/app/*/*",
      "${local.elb_arn}:loadbalancer/net/*/*",
      "${local.elb_arn}:listener/app/*/*/*",
      "${local.elb_arn}:listener/net/*/*/*",
      "${local.elb_arn}:listener-rule/app/*/*/*",
      "${local.elb_arn}:listener-rule/net/*/*/*",
    ]
  }

  statement {
    sid     = "RetagOwnLoadBalancers"
    actions = ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"]
    resources = [
      "${local.elb_arn}:targetgroup/*/*",
      "${local.elb_arn}:loadbalancer/net/*/*",
      "${local.elb_arn}:loadbalancer/app/*/*",
    ]

    condition {
      test     = "Null"
      variable = local.cluster_tag_request
      values   = ["true"]
    }

    condition {
      test     = "StringEquals"
      variable = local.cluster_tag_resource
      values   = [var.cluster_name]
    }
  }

  statement {
    sid     = "TagListenersAndRules"
    actions = ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"]
    resources = [
      "${local.elb_arn}:listener/net/*/*/*",
      "${local.elb_arn}:listener/app/*/*/*",
      "${local.elb_arn}:listener-rule/net/*/*/*",
      "${local.elb_arn}:listener-rule/app/*/*/*",
    ]
  }

  statement {
    sid = "ManageOwnLoadBalancers"
    actions = [
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:SetIpAddressType",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:ModifyListenerAttributes",
      "elasticloadbalancing:ModifyCapacityReservation",
      "elasticloadbalancing:ModifyIpPools",
    ]
    resources = [
      "${local.elb_arn}:targetgroup/*/*",
      "${local.elb_arn}:loadbalancer/net/*/*",
      "${local.elb_arn}:loadbalancer/app/*/*",
      "${local.elb_arn}:listener/net/*/*/*",
      "${local.elb_arn}:listener/app/*/*/*",
    ]

    condition {
      test     = "StringEquals"
      variable = local.cluster_tag_resource
      values   = [var.cluster_name]
    }
  }

  statement {
    sid     = "TagLoadBalancersAtCreation"
    actions = ["elasticloadbalancing:AddTags"]
    resources = [
      "${local.elb_arn}:targetgroup/*/*",
      "${local.elb_arn}:loadbalancer/net/*/*",
      "${local.elb_arn}:loadbalancer/app/*/*",
    ]

    condition {
      test     = "StringEquals"
      variable = "elasticloadbalancing:CreateAction"
      values   = ["CreateTargetGroup", "CreateLoadBalancer"]
    }

    condition {
      test     = "StringEquals"
      variable = local.cluster_tag_request
      values   = [var.cluster_name]
    }
  }

  statement {
    sid       = "RegisterPodTargets"
    actions   = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"]
    resources = ["${local.elb_arn}:targetgroup/*/*"]
  }

  statement {
    sid = "ListenerSettings"
    actions = [
      "elasticloadbalancing:SetWebAcl",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:AddListenerCertificates",
      "elasticloadbalancing:RemoveListenerCertificates",
      "elasticloadbalancing:ModifyRule",
      "elasticloadbalancing:SetRulePriorities",
    ]
    resources = [
      "${local.elb_arn}:loadbalancer/app/*/*",
      "${local.elb_arn}:listener/app/*/*/*",
      "${local.elb_arn}:listener/net/*/*/*",
      "${local.elb_arn}:listener-rule/app/*/*/*",
      "${local.elb_arn}:listener-rule/net/*/*/*",
    ]
  }
}

resource "aws_iam_policy" "controller" {
  name        = "${var.cluster_name}-aws-load-balancer-controller"
  description = "AWS Load Balancer Controller of ${var.cluster_name}"
  policy      = data.aws_iam_policy_document.controller.json

  tags = var.tags
}

module "role" {
  source = "../irsa-role"

  name              = "${var.cluster_name}-aws-load-balancer-controller"
  description       = "AWS Load Balancer Controller of ${var.cluster_name}"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  service_accounts  = ["${var.namespace}:${var.service_account_name}"]
  managed_policies  = { controller = aws_iam_policy.controller.arn }

  tags = var.tags
}

resource "helm_release" "controller" {
  name       = "aws-load-balancer-controller"
  repository = var.chart_repository
  chart      = "aws-load-balancer-controller"
  version    = var.chart_version
  namespace  = var.namespace

  wait    = true
  timeout = 600

  values = [yamlencode({
    clusterName  = var.cluster_name
    region       = var.region
    vpcId        = var.vpc_id
    replicaCount = var.replicas
    serviceAccount = {
      create = true
      name   = var.service_account_name
      annotations = {
        "eks.amazonaws.com/role-arn" = module.role.arn
      }
    }
    # Ingresses of class alb only; the SoraDeployment's Ingress uses it by default.
    createIngressClassResource = true
    ingressClass               = "alb"
    podDisruptionBudget        = { maxUnavailable = 1 }
  })]
}
