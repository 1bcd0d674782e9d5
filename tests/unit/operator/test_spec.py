"""The typed spec: environment defaults, overrides, and what the CRD cannot check."""

from __future__ import annotations

import pytest

from sora_operator.spec import (
    LocalStorage,
    S3Storage,
    SpecError,
    missing_secret_keys,
    parse,
)
from tests.unit.operator.factories import IMAGE, body, make_sora_deployment


def test_prod_defaults_to_two_file_servers_of_512m_and_1gi() -> None:
    prod = make_sora_deployment("prod")
    assert prod.file_server.replicas == 2
    assert prod.file_server.resources.as_manifest() == {
        "requests": {"cpu": "512m", "memory": "1Gi"},
        "limits": {"cpu": "512m", "memory": "1Gi"},
    }


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_non_prod_defaults_to_one_file_server_of_256m_and_512mi(environment: str) -> None:
    platform = make_sora_deployment(environment)
    assert platform.file_server.replicas == 1
    assert platform.file_server.resources.as_manifest()["requests"] == {
        "cpu": "256m",
        "memory": "512Mi",
    }


def test_feedback_api_gets_the_same_environment_size_as_the_file_server() -> None:
    assert (
        make_sora_deployment("prod").feedback_api.resources
        == make_sora_deployment("prod").file_server.resources
    )


@pytest.mark.parametrize(("environment", "days"), [("prod", 30), ("staging", 7), ("dev", 7)])
def test_log_retention_follows_the_environment(environment: str, days: int) -> None:
    assert make_sora_deployment(environment).log_retention_days == days


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_backup_retention_is_thirty_days_everywhere(environment: str) -> None:
    assert make_sora_deployment(environment).backup_retention_days == 30


def test_prod_database_volume_defaults_to_10gi_and_others_to_1gi() -> None:
    assert make_sora_deployment("prod").feedback_api.database.size == "10Gi"
    assert make_sora_deployment("dev").feedback_api.database.size == "1Gi"


def test_explicit_replicas_override_the_environment_default() -> None:
    assert make_sora_deployment("prod", fileServer={"replicas": 5}).file_server.replicas == 5


def test_explicit_retentions_override_the_environment_defaults() -> None:
    platform = make_sora_deployment(
        "prod", monitoring={"logRetentionDays": 90}, backup={"retentionDays": 14}
    )
    assert (platform.log_retention_days, platform.backup_retention_days) == (90, 14)


def test_a_request_alone_sets_its_limit_too() -> None:
    resources = make_sora_deployment(
        "prod", fileServer={"resources": {"requests": {"memory": "2Gi"}}}
    )
    assert resources.file_server.resources.memory_limit == "2Gi"
    assert resources.file_server.resources.cpu_limit == "512m"


def test_a_limit_below_the_default_request_caps_the_request() -> None:
    platform = make_sora_deployment("prod", fileServer={"resources": {"limits": {"cpu": "200m"}}})
    assert platform.file_server.resources.cpu_request == "200m"


def test_a_limit_above_the_default_request_keeps_the_default_request() -> None:
    platform = make_sora_deployment("prod", fileServer={"resources": {"limits": {"cpu": "2"}}})
    assert (
        platform.file_server.resources.cpu_request,
        platform.file_server.resources.cpu_limit,
    ) == (
        "512m",
        "2",
    )


def test_a_request_above_its_limit_is_refused() -> None:
    with pytest.raises(SpecError, match="cpu request 2 is more than the limit 1"):
        make_sora_deployment(
            "dev", feedbackApi={"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}
        )


def test_image_falls_back_to_the_operators_default_image() -> None:
    assert make_sora_deployment("dev").image.reference == "registry.example/sora/services:1.2.3"


def test_image_fields_override_the_operators_default() -> None:
    platform = make_sora_deployment("dev", image={"repository": "ecr.example/sora", "tag": "2.0.0"})
    assert platform.image.reference == "ecr.example/sora:2.0.0"


def test_storage_defaults_to_the_sample_catalog() -> None:
    assert make_sora_deployment("dev").file_server.storage == LocalStorage(claim_name=None)


def test_s3_storage_is_parsed_with_every_field() -> None:
    storage = {
        "type": "s3",
        "s3": {"bucket": "cat", "prefix": "p/", "region": "eu-west-1", "endpoint": "http://m:9"},
    }
    assert make_sora_deployment(
        "dev", fileServer={"storage": storage}
    ).file_server.storage == S3Storage("cat", "p/", "eu-west-1", "http://m:9")


def test_s3_storage_without_a_bucket_is_refused() -> None:
    with pytest.raises(SpecError, match=r"requires fileServer\.storage\.s3\.bucket"):
        make_sora_deployment("dev", fileServer={"storage": {"type": "s3"}})


def test_cache_size_is_converted_to_bytes() -> None:
    assert (
        make_sora_deployment("dev", fileServer={"cacheSize": "512Mi"}).file_server.cache_bytes
        == 512 * 1024**2
    )


def test_a_malformed_cache_size_is_refused_with_the_field_name() -> None:
    with pytest.raises(SpecError, match=r"fileServer\.cacheSize"):
        make_sora_deployment("dev", fileServer={"cacheSize": "lots"})


def test_feedback_api_with_two_replicas_is_refused_because_sqlite_has_one_writer() -> None:
    with pytest.raises(SpecError, match="SQLite has a single writer"):
        make_sora_deployment("dev", feedbackApi={"replicas": 2})


def test_secret_name_defaults_to_the_deployment_name_with_secrets_suffix() -> None:
    assert make_sora_deployment("dev").feedback_api.secret_name == "shop-secrets"


def test_database_is_retained_on_delete_by_default() -> None:
    assert make_sora_deployment("dev").feedback_api.database.retain_on_delete is True


def test_ingress_defaults_to_an_alb_ingress() -> None:
    ingress = make_sora_deployment("dev").ingress
    assert (ingress.enabled, ingress.class_name, ingress.is_alb) == (True, "alb", True)


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(SpecError, match=r"spec\.environment"):
        parse(body({"environment": "qa"}), IMAGE)


def test_a_field_of_the_wrong_type_is_refused_with_its_path() -> None:
    with pytest.raises(SpecError, match=r"spec\.fileServer\.replicas: Input should be a valid"):
        make_sora_deployment("dev", fileServer={"replicas": "many"})


def test_every_field_of_the_wrong_type_is_named() -> None:
    with pytest.raises(SpecError, match=r"spec\.image\.pullSecrets\[1\].*spec\.backup\.enabled"):
        make_sora_deployment("dev", image={"pullSecrets": ["a", 7]}, backup={"enabled": "x"})


def test_a_spec_without_the_crd_defaults_gets_them_from_the_models() -> None:
    platform = make_sora_deployment("dev")
    assert (
        platform.image.pull_policy,
        platform.backup.schedule,
        platform.monitoring.scrape_interval,
    ) == (
        "IfNotPresent",
        "0 3 * * *",
        "30s",
    )
    assert platform.file_server.cache_bytes == 1024**3


def test_autoscaling_enabled_marks_the_file_server_autoscaled() -> None:
    assert make_sora_deployment(
        "dev", fileServer={"autoscaling": {"enabled": True}}
    ).file_server.autoscaled


def test_secret_with_every_key_has_nothing_missing() -> None:
    data = {"ENCRYPTION_KEY": "YQ==", "IP_SALT": "Yg==", "ADMIN_TOKEN": "Yw=="}
    assert missing_secret_keys(data) == ()


def test_secret_with_an_empty_key_reports_it_missing() -> None:
    data = {"ENCRYPTION_KEY": "", "IP_SALT": "Yg==", "ADMIN_TOKEN": "Yw=="}
    assert missing_secret_keys(data) == ("ENCRYPTION_KEY",)
