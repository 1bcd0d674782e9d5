"""The optional CloudFront distribution (module cdn): off by default; the file server's catalog
and packages cached per their Cache-Control, everything else passed through; the ALB reachable
from CloudFront only; TLS; logs into the access-log bucket."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from terraform_hcl import MODULES, PLATFORM, TerraformTree, expr

CDN = MODULES / "cdn"
STORAGE = MODULES / "storage"


def _cached_paths(tree: TerraformTree) -> list[tuple[str, str]]:
    """(pattern, cache policy) in the order CloudFront tries them."""
    return [(entry["pattern"], entry["policy"]) for entry in tree.locals_of(CDN)["cached_paths"]]


def _first_behaviour(tree: TerraformTree, path: str) -> str:
    """The cache policy CloudFront picks for a path: the first matching pattern, else none."""
    for pattern, policy in _cached_paths(tree):
        if fnmatchcase(path, pattern):
            return policy
    return "uncached"


def test_the_cdn_is_optional_and_off(tree: TerraformTree) -> None:
    variables = {n: b for p, n, b in tree.named("variable") if p.parent == PLATFORM}
    assert variables["cdn_enabled"]["default"] is False
    call = tree.module_calls(PLATFORM)["cdn"]
    assert expr(call["count"]) == "var.cdn_enabled ? 1 : 0"


def test_each_path_gets_the_caching_the_issue_asks_for(tree: TerraformTree) -> None:
    expected = {
        "/api/extensions": "catalog",
        "/api/extensions/clock": "catalog",
        "/api/layouts?limit=5": "catalog",
        "/api/extensions/clock/download": "packages",
        "/api/layouts/grid/download?version=1.0.0": "packages",
        "/api/feedback": "uncached",
        "/api/feedback/clock": "uncached",
        "/api/recommendations": "uncached",
        "/api/stats": "uncached",
        "/admin": "uncached",
        "/health": "uncached",
    }
    assert {path: _first_behaviour(tree, path) for path in expected} == expected


def test_cached_responses_follow_the_origins_cache_control(tree: TerraformTree) -> None:
    policy = tree.resource(CDN, "aws_cloudfront_cache_policy", "this")
    # No Cache-Control, no caching; max-age rules up to the ceiling.
    assert (policy["min_ttl"], policy["default_ttl"]) == (0, 0)
    parameters = policy["parameters_in_cache_key_and_forwarded_to_origin"][0]
    assert parameters["query_strings_config"][0]["query_string_behavior"] == "all"
    assert parameters["cookies_config"][0]["cookie_behavior"] == "none"
    default = tree.resource(CDN, "aws_cloudfront_distribution", "this")["default_cache_behavior"][0]
    assert expr(default["cache_policy_id"]) == "data.aws_cloudfront_cache_policy.disabled.id"
    assert "POST" in default["allowed_methods"]
    disabled = tree.data(CDN, "aws_cloudfront_cache_policy", "disabled")
    assert disabled["name"] == "Managed-CachingDisabled"


def test_the_alb_accepts_https_from_cloudfront_only(tree: TerraformTree) -> None:
    prefix_list = tree.data(CDN, "aws_ec2_managed_prefix_list", "cloudfront")
    assert prefix_list["name"] == "com.amazonaws.global.cloudfront.origin-facing"
    rules = [
        b
        for b in tree.blocks("resource", "aws_vpc_security_group_ingress_rule")
        if b.module_dir == CDN
    ]
    assert [expr(rule.body["prefix_list_id"]) for rule in rules] == [
        "data.aws_ec2_managed_prefix_list.cloudfront.id"
    ]
    assert (rules[0].body["from_port"], rules[0].body["to_port"]) == (443, 443)
    call = tree.module_calls(PLATFORM)["sora"]
    assert expr(call["ingress_annotations"]) == (
        "var.cdn_enabled ? module.cdn[0].ingress_annotations : {}"
    )


def test_viewers_and_the_origin_use_tls(tree: TerraformTree) -> None:
    distribution = tree.resource(CDN, "aws_cloudfront_distribution", "this")
    origin: dict[str, Any] = distribution["origin"][0]["custom_origin_config"][0]
    assert origin["origin_protocol_policy"] == "https-only"
    assert origin["origin_ssl_protocols"] == ["TLSv1.2"]
    assert (
        distribution["default_cache_behavior"][0]["viewer_protocol_policy"] == "redirect-to-https"
    )
    variables = {n: b for p, n, b in tree.named("variable") if p.parent == CDN}
    assert "acm:us-east-1" in expr(variables["certificate_arn"]["validation"][0]["condition"])


def test_access_logs_go_to_the_access_log_bucket(tree: TerraformTree) -> None:
    destination = tree.resource(CDN, "aws_cloudwatch_log_delivery_destination", "this")
    assert destination["delivery_destination_configuration"][0]["destination_resource_arn"] == (
        "${var.log_bucket_arn}/${var.log_prefix}"
    )
    call = tree.module_calls(PLATFORM)["cdn"]
    assert expr(call["log_bucket_arn"]) == "module.storage.access_log_bucket_arn"
    storage_call = tree.module_calls(PLATFORM)["storage"]
    assert (
        expr(storage_call["cloudfront_log_prefix"])
        == "var.cdn_enabled ? local.cdn_log_prefix : null"
    )
