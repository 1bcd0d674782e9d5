"""The few API calls the operator makes, over the official client's connection pool.

Plain JSON in and out, one method per verb. Every write checks ``may_write``
first (the leader guard: a replica that is not sure it leads never writes) and
is counted through ``on_write``. Server-side apply uses one field manager and
forces ownership of the fields it sets, as a controller should.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import kopf
import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from sora_contract.settings import ConfigError
from sora_operator.objects import KINDS, ObjectRef, group_path, ref_of

FIELD_MANAGER: Final = "sora-operator"
#: Connect and read timeouts (seconds): a hung API server never hangs a reconcile.
REQUEST_TIMEOUT: Final = (5.0, 30.0)
TEMPORARY_STATUSES: Final = frozenset({0, 409, 429, 500, 502, 503, 504})
_RESPONSE_TYPES: Final = dict.fromkeys((200, 201, 202), "object")

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """The API server refused a request, or could not be reached (status 0)."""

    def __init__(self, status: int, reason: str, message: str, ref: ObjectRef | None = None):
        super().__init__(f"{ref or 'request'}: {status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.ref = ref

    @property
    def temporary(self) -> bool:
        """Worth retrying as is: conflicts, throttling, server errors, no connection."""
        return self.status in TEMPORARY_STATUSES


class NotLeadingError(Exception):
    """A write was attempted by a replica that does not (or no longer surely) lead."""


def _always() -> bool:
    return True


def _ignore_write(verb: str, kind: str) -> None:
    return None


def _ignore_request(verb: str) -> None:
    return None


@dataclass
class KubeClient:
    api_client: Any
    field_manager: str = FIELD_MANAGER
    may_write: Callable[[], bool] = _always
    on_write: Callable[[str, str], None] = _ignore_write
    #: Called with the verb (GET, LIST, PATCH, ...) of every request this client sends.
    on_request: Callable[[str], None] = _ignore_request
    timeout: tuple[float, float] = REQUEST_TIMEOUT
    _headers: dict[str, str] = field(default_factory=dict)

    # -- reads --------------------------------------------------------------------------

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        try:
            return self._call("GET", ref.path, ref=ref)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def list_objects(
        self, kind: str, namespace: str | None, selector: str = "", fields: str = ""
    ) -> list[dict[str, Any]]:
        """Objects of ``kind`` matching a label ``selector`` and a ``fields`` selector."""
        query = [("labelSelector", selector)] if selector else []
        query += [("fieldSelector", fields)] if fields else []
        path = KINDS[kind].collection_path(namespace)
        return list(self._call("GET", path, query=query, verb="LIST").get("items", []))

    def served_kinds(self, api_version: str) -> frozenset[str]:
        """The kinds an API group version serves now (none when its CRDs are missing)."""
        try:
            resources = self._call("GET", group_path(api_version)).get("resources", [])
        except ApiError as error:
            if error.status == 404:
                return frozenset()
            raise
        return frozenset(str(resource.get("kind")) for resource in resources)

    # -- writes -------------------------------------------------------------------------

    def apply(self, manifest: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply: create or update the fields this manager sets."""
        ref = ref_of(manifest)
        query = [("fieldManager", self.field_manager), ("force", "true")]
        if dry_run:
            query.append(("dryRun", "All"))
        return self._write(
            "PATCH",
            ref.path,
            ref,
            manifest,
            query,
            content_type="application/apply-patch+yaml",
            dry_run=dry_run,
        )

    def create(self, manifest: Mapping[str, Any]) -> dict[str, Any] | None:
        """Create only; None when an object of that name already exists."""
        ref = ref_of(manifest)
        query = [("fieldManager", self.field_manager)]
        try:
            return self._write("POST", ref.collection_path, ref, manifest, query)
        except ApiError as error:
            if error.status == 409 and error.reason == "AlreadyExists":
                return None
            raise

    def replace(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """PUT with the manifest's resourceVersion: fails with 409 if someone wrote meanwhile."""
        ref = ref_of(manifest)
        query = [("fieldManager", self.field_manager)]
        return self._write("PUT", ref.path, ref, manifest, query)

    def delete(self, ref: ObjectRef) -> None:
        body = {"propagationPolicy": "Background"}
        try:
            self._write("DELETE", ref.path, ref, body, [])
        except ApiError as error:
            if error.status != 404:
                raise

    def patch_status(self, ref: ObjectRef, status: Mapping[str, Any]) -> dict[str, Any]:
        """A JSON merge patch of the status subresource (None values remove keys)."""
        body = {"status": dict(status)}
        query = [("fieldManager", self.field_manager)]
        path = f"{ref.path}/status"
        return self._write(
            "PATCH", path, ref, body, query, content_type="application/merge-patch+json"
        )

    # -- plumbing -----------------------------------------------------------------------

    def _write(
        self,
        method: str,
        path: str,
        ref: ObjectRef,
        body: Mapping[str, Any],
        query: list[tuple[str, str]],
        *,
        content_type: str = "application/json",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        if not dry_run:
            if not self.may_write():
                raise NotLeadingError(f"not writing {ref}: this replica does not hold the lease")
            self.on_write(method, ref.kind)
        return self._call(method, path, query=query, body=body, content_type=content_type, ref=ref)

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
        ref: ObjectRef | None = None,
        verb: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        self.on_request(verb or method)
        try:
            result = self.api_client.call_api(
                path,
                method,
                query_params=query or [],
                header_params=headers,
                body=dict(body) if body is not None else None,
                auth_settings=["BearerToken"],
                response_types_map=_RESPONSE_TYPES,
                _return_http_data_only=True,
                _preload_content=True,
                _request_timeout=self.timeout,
            )
        except ApiException as error:
            raise _api_error(error, ref) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise ApiError(0, "Unreachable", str(error), ref) from None
        return result if isinstance(result, dict) else {}


def _api_error(error: ApiException, ref: ObjectRef | None) -> ApiError:
    status = int(error.status or 0)
    reason, message = str(error.reason or ""), str(error.body or error.reason or "")
    try:
        details = json.loads(error.body or "")
    except (TypeError, ValueError):
        details = None
    if isinstance(details, dict):
        reason = str(details.get("reason") or reason)
        message = str(details.get("message") or message)
    return ApiError(status, reason, message, ref)


def api_client(kubeconfig: str | None = None, pool_size: int = 16) -> Any:
    """An ApiClient for the pod's ServiceAccount in a cluster, else for a kubeconfig."""
    configuration = client.Configuration()
    try:
        if kubeconfig is None:
            try:
                config.load_incluster_config(client_configuration=configuration)
            except config.ConfigException:
                config.load_kube_config(client_configuration=configuration)
        else:
            config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    except (config.ConfigException, OSError) as error:
        raise ConfigError(
            f"no Kubernetes credentials (in-cluster ServiceAccount, KUBECONFIG or "
            f"--kubeconfig): {error}"
        ) from None
    configuration.connection_pool_maxsize = pool_size
    return client.ApiClient(configuration)


def connection_info(configuration: Any) -> kopf.ConnectionInfo:
    """kopf's credentials from the same client configuration (asked again on a 401).

    Reading the token through ``get_api_key_with_prefix`` runs the client's refresh
    hook, so an in-cluster token that was rotated is picked up.
    """
    header = configuration.get_api_key_with_prefix(
        "BearerToken"
    ) or configuration.get_api_key_with_prefix("authorization")
    scheme, _, token = (header or "").rpartition(" ")
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme or None,
        token=token or None,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
    )
