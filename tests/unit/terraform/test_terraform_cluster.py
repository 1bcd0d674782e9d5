"""EKS, its add-ons, the load balancer controller and the monitoring, as the issue asks."""

from __future__ import annotations

from terraform_hcl import MODULES, PLATFORM, TerraformTree, expr

EKS = MODULES / "eks"
MONITORING = MODULES / "monitoring"


def test_the_kubernetes_version_is_pinned(tree: TerraformTree) -> None:
    variables = {
        name: body for path, name, body in tree.named("variable") if path.parent == PLATFORM
    }
    assert variables["kubernetes_version"]["default"] == "1.35"
    assert (
        expr(tree.resource(EKS, "aws_eks_cluster", "this")["version"]) == "var.kubernetes_version"
    )


def test_kubernetes_secrets_are_encrypted_with_a_kms_key(tree: TerraformTree) -> None:
    encryption = tree.resource(EKS, "aws_eks_cluster", "this")["encryption_config"][0]
    assert encryption["resources"] == ["secrets"]
    assert expr(encryption["provider"][0]["key_arn"]) == "aws_kms_key.secrets.arn"


def test_every_control_plane_log_type_is_on(tree: TerraformTree) -> None:
    cluster = tree.resource(EKS, "aws_eks_cluster", "this")
    assert expr(cluster["enabled_cluster_log_types"]) == "local.control_plane_log_types"
    assert tree.locals_of(EKS)["control_plane_log_types"] == [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ]


def test_the_api_endpoint_is_never_open_to_the_whole_internet(tree: TerraformTree) -> None:
    variables = {name: body for path, name, body in tree.named("variable") if path.parent == EKS}
    conditions = [
        expr(rule["condition"]) for rule in variables["public_access_cidrs"]["validation"]
    ]
    assert any('cidr != "0.0.0.0/0"' in condition for condition in conditions)


def test_nodes_require_imdsv2_and_encrypted_volumes(tree: TerraformTree) -> None:
    template = tree.resource(EKS, "aws_launch_template", "node")
    assert template["metadata_options"][0]["http_tokens"] == "required"
    assert template["block_device_mappings"][0]["ebs"][0]["encrypted"] is True


def test_ebs_csi_metrics_server_and_container_insights_are_installed(tree: TerraformTree) -> None:
    addons = tree.locals_of(EKS)["addons_after_nodes"]
    text = expr(addons)
    for addon in (
        "aws-ebs-csi-driver",
        "metrics-server",
        "coredns",
        "amazon-cloudwatch-observability",
    ):
        assert addon in text, addon
    assert tree.locals_of(EKS)["addons_before_nodes"] == '${toset(["vpc-cni", "kube-proxy"])}'


def test_irsa_is_enabled_through_an_oidc_provider(tree: TerraformTree) -> None:
    provider = tree.resource(EKS, "aws_iam_openid_connect_provider", "this")
    assert provider["client_id_list"] == ["sts.amazonaws.com"]


def test_the_database_storage_class_is_encrypted_gp3(tree: TerraformTree) -> None:
    storage_class = tree.resource(MODULES / "storage-class", "kubernetes_storage_class_v1", "this")
    assert storage_class["storage_provisioner"] == "ebs.csi.aws.com"
    assert storage_class["volume_binding_mode"] == "WaitForFirstConsumer"
    parameters = expr(storage_class["parameters"])
    assert 'type = "gp3"' in parameters
    assert 'encrypted = "true"' in parameters


def test_the_load_balancer_controller_is_installed_with_its_own_role(tree: TerraformTree) -> None:
    controller = MODULES / "alb-controller"
    release = tree.resource(controller, "helm_release", "controller")
    assert release["chart"] == "aws-load-balancer-controller"
    assert "module.role.arn" in expr(release["values"])
    role = tree.module_calls(controller)["role"]
    assert role["managed_policies"] == {"controller": "${aws_iam_policy.controller.arn}"}


def test_alarms_match_the_seed_thresholds(tree: TerraformTree) -> None:
    defaults = {
        name: body.get("default")
        for path, name, body in tree.named("variable")
        if path.parent == MONITORING
    }
    assert defaults["cpu_threshold_percent"] == 80
    assert defaults["memory_threshold_percent"] == 85
    assert defaults["http_5xx_threshold"] == 10
    assert defaults["response_time_threshold_seconds"] == 2
    assert defaults["alarm_period_seconds"] == 300
    assert defaults["alarm_evaluation_periods"] == 2


def test_every_alarm_notifies_the_alerts_topic(tree: TerraformTree) -> None:
    """The monitoring module's alarms (modules/postgres alarms into the same topic, through
    its alarm_topic_arn: test_terraform_postgres.py)."""
    alarms = [
        alarm
        for alarm in tree.blocks("resource", "aws_cloudwatch_metric_alarm")
        if alarm.module_dir == MONITORING
    ]
    assert {alarm.name for alarm in alarms} == {
        "workload_cpu",
        "workload_memory",
        "alb_5xx",
        "alb_response_time",
    }
    for alarm in alarms:
        assert expr(alarm.body["alarm_actions"]) == "local.alarm_actions", alarm.address
        assert expr(alarm.body["comparison_operator"]) == "GreaterThanThreshold"
    assert tree.locals_of(MONITORING)["alarm_actions"] == ["${aws_sns_topic.alerts.arn}"]


def test_the_alert_email_subscription_is_optional(tree: TerraformTree) -> None:
    subscription = tree.resource(MONITORING, "aws_sns_topic_subscription", "email")
    assert expr(subscription["count"]) == "var.alert_email == null ? 0 : 1"
    assert subscription["protocol"] == "email"
    topic = tree.resource(MONITORING, "aws_sns_topic", "alerts")
    assert expr(topic["kms_master_key_id"]) == "aws_kms_key.this.arn"


def test_the_sora_charts_are_optional_and_off_by_default(tree: TerraformTree) -> None:
    call = tree.module_calls(PLATFORM)["sora"]
    assert expr(call["count"]) == "var.deploy_sora ? 1 : 0"
    assert call["operator_chart"].endswith("/../../charts/sora-operator")
    assert call["platform_chart"].endswith("/../../charts/sora")
    variables = {
        name: body for path, name, body in tree.named("variable") if path.parent == PLATFORM
    }
    assert variables["deploy_sora"]["default"] is False


def test_outputs_give_what_a_person_needs_next(tree: TerraformTree) -> None:
    outputs = {name for path, name, _ in tree.named("output") if path.parent == PLATFORM}
    assert {
        "cluster_name",
        "kubeconfig_command",
        "ecr_repository_urls",
        "files_bucket_name",
        "backup_bucket_name",
        "file_server_role_arn",
        "backup_role_arn",
    } <= outputs


# -- Node autoscaling -----------------------------------------------------------------


AUTOSCALER = MODULES / "cluster-autoscaler"


def test_the_node_group_is_tagged_for_the_cluster_autoscaler(tree: TerraformTree) -> None:
    tags = tree.locals_of(EKS)["autoscaler_tags"]
    assert tags == {
        "k8s.io/cluster-autoscaler/enabled": "true",
        "k8s.io/cluster-autoscaler/${var.cluster_name}": "owned",
    }
    group = tree.resource(EKS, "aws_eks_node_group", "this")
    assert "local.autoscaler_tags" in expr(group["tags"])
    assert group["lifecycle"][0]["ignore_changes"] == ["${scaling_config[0].desired_size}"]
    asg_tag = tree.resource(EKS, "aws_autoscaling_group_tag", "autoscaler")
    assert expr(asg_tag["for_each"]) == "local.autoscaler_tags"


def test_the_cluster_autoscaler_is_on_by_default(tree: TerraformTree) -> None:
    variables = {n: b for p, n, b in tree.named("variable") if p.parent == PLATFORM}
    assert variables["enable_cluster_autoscaler"]["default"] is True
    call = tree.module_calls(PLATFORM)["cluster_autoscaler"]
    assert expr(call["cluster_name"]) == "module.eks.cluster_name"
    assert expr(call["kubernetes_version"]) == "var.kubernetes_version"


def test_prod_nodes_can_grow_to_hold_the_file_servers_at_their_maximum(
    tree: TerraformTree,
) -> None:
    settings = tree.locals_of(PLATFORM)["settings"]
    assert expr(settings["node_max_size"]) == "local.is_prod ? 8 : 3"
    assert expr(settings["node_min_size"]) == "local.is_prod ? 2 : 1"


def test_the_autoscaler_resizes_only_this_clusters_groups(tree: TerraformTree) -> None:
    statements = tree.data(AUTOSCALER, "aws_iam_policy_document", "autoscaler")["statement"]
    by_sid = {statement["sid"]: statement for statement in statements}
    resize = by_sid["ResizeThisClustersNodeGroupsOnly"]
    assert set(resize["actions"]) == {
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
    }
    (condition,) = resize["condition"]
    assert condition["test"] == "StringEquals"
    assert condition["variable"] == "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.cluster_name}"
    assert condition["values"] == ["owned"]
    # Everything on "*" only describes.
    assert all(
        action.split(":")[1].startswith(("Describe", "Get"))
        for action in by_sid["DiscoverNodeGroups"]["actions"]
    )
    call = tree.module_calls(AUTOSCALER)["role"]
    assert call["service_accounts"] == ["${var.namespace}:${var.service_account_name}"]


def test_the_autoscaler_may_remove_nodes_that_run_a_file_server(tree: TerraformTree) -> None:
    values = expr(tree.resource(AUTOSCALER, "helm_release", "autoscaler")["values"])
    assert '"skip-nodes-with-local-storage" = false' in values
    assert "autoDiscovery = {clusterName = var.cluster_name}" in values
