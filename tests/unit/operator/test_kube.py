"""The thin API layer: error classification, the leader guard, kopf's credentials."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sora_operator.kube import ApiError, KubeClient, NotLeadingError, connection_info
from sora_operator.objects import ObjectRef

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}


class RecordingApiClient:
    """Stands in for kubernetes.client.ApiClient.call_api; records requests."""

    def __init__(self, error: ApiException | None = None) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.error = error

    def call_api(self, path: str, method: str, **kwargs: Any) -> dict[str, Any]:
        self.calls.append((method, path, kwargs))
        if self.error is not None:
            raise self.error
        return {"kind": "ConfigMap"}


def _api_exception(status: int, body: str) -> ApiException:
    error = ApiException(status=status, reason="x")
    error.body = body
    return error


@pytest.mark.parametrize("status", [0, 409, 429, 500, 503])
def test_conflicts_throttling_and_server_errors_are_temporary(status: int) -> None:
    assert ApiError(status, "x", "y").temporary


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_refusals_are_not_temporary(status: int) -> None:
    assert not ApiError(status, "x", "y").temporary


def test_apply_is_a_forced_server_side_apply_by_the_operators_field_manager() -> None:
    api = RecordingApiClient()
    KubeClient(api).apply(CONFIG_MAP)
    method, path, kwargs = api.calls[0]
    assert (method, path) == ("PATCH", "/api/v1/namespaces/n/configmaps/c")
    assert kwargs["header_params"]["Content-Type"] == "application/apply-patch+yaml"
    assert ("fieldManager", "sora-operator") in kwargs["query_params"]
    assert ("force", "true") in kwargs["query_params"]


def test_a_replica_that_does_not_lead_sends_no_write() -> None:
    api = RecordingApiClient()
    with pytest.raises(NotLeadingError):
        KubeClient(api, may_write=lambda: False).apply(CONFIG_MAP)
    assert api.calls == []


def test_a_replica_that_does_not_lead_may_still_read() -> None:
    api = RecordingApiClient()
    KubeClient(api, may_write=lambda: False).get(ObjectRef("ConfigMap", "n", "c"))
    assert api.calls[0][0] == "GET"


def test_writes_are_counted_and_dry_runs_are_not() -> None:
    counted: list[tuple[str, str]] = []
    kube = KubeClient(
        RecordingApiClient(), on_write=lambda verb, kind: counted.append((verb, kind))
    )
    kube.apply(CONFIG_MAP)
    kube.apply(CONFIG_MAP, dry_run=True)
    assert counted == [("PATCH", "ConfigMap")]


def test_a_missing_object_reads_as_none() -> None:
    api = RecordingApiClient(_api_exception(404, '{"reason": "NotFound", "message": "gone"}'))
    assert KubeClient(api).get(ObjectRef("ConfigMap", "n", "c")) is None


def test_the_api_servers_reason_and_message_are_kept() -> None:
    body = '{"reason": "Invalid", "message": "spec.storageClassName: field is immutable"}'
    api = RecordingApiClient(_api_exception(422, body))
    with pytest.raises(ApiError) as raised:
        KubeClient(api).apply(CONFIG_MAP)
    assert (raised.value.status, raised.value.reason) == (422, "Invalid")
    assert raised.value.message == "spec.storageClassName: field is immutable"


def test_create_of_an_existing_object_returns_none() -> None:
    api = RecordingApiClient(_api_exception(409, '{"reason": "AlreadyExists", "message": "x"}'))
    assert KubeClient(api).create(CONFIG_MAP) is None


def test_kopf_gets_the_same_server_and_token_as_the_client() -> None:
    configuration = client.Configuration()
    configuration.host = "https://10.0.0.1:443"
    configuration.api_key = {"BearerToken": "abc"}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    info = connection_info(configuration)
    assert (info.server, info.scheme, info.token) == ("https://10.0.0.1:443", "Bearer", "abc")
