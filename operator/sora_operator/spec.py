"""A SoraDeployment as typed, frozen values, with the environment's defaults applied.

The models (api/v1alpha1.py) read the spec as the CRD describes it, with the CRD's own
defaults and field checks. What the CRD cannot say is a default that depends on another
field (``environment``), and the operator does not count on CEL rules having run (unit
tests, an API server without them): both happen here, once, so that the builders only ever
see complete values. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, TypeVar

from kubernetes.utils import parse_quantity
from pydantic import ValidationError

from sora_operator.api import v1alpha1 as api
from sora_operator.autoscaling import (
    PROD_WINDOWS,
    Autoscaling,
    AutoscalingError,
    AutoscalingSection,
    ScalingWindow,
    parse_autoscaling,
)

SECRET_KEYS: Final = ("ENCRYPTION_KEY", "IP_SALT", "ADMIN_TOKEN")
#: The admin panel's own Secret: only the key that signs its session cookies.
ADMIN_SECRET_KEYS: Final = ("SESSION_SECRET",)
#: The key of urlSecretRef's Secret when the spec names none.
DEFAULT_DATABASE_URL_KEY: Final = "url"

T = TypeVar("T")


class SpecError(ValueError):
    """The spec passed the CRD but cannot be realised; the message says which field and why."""


@dataclass(frozen=True)
class EnvironmentDefaults:
    """What ``environment`` implies, as the seed's ``var.environment`` conditionals."""

    file_server_replicas: int
    cpu: str
    memory: str
    database_size: str
    log_retention_days: int
    backup_retention_days: int
    #: The seed's autoscaling ceiling; the floor is file_server_replicas.
    autoscaling_max_replicas: int = 3
    #: The scaling windows applied when ``fileServer.autoscaling.schedules`` is not set.
    autoscaling_windows: tuple[ScalingWindow, ...] = ()


ENVIRONMENT_DEFAULTS: Final[Mapping[api.Environment, EnvironmentDefaults]] = {
    # The seed autoscales the file server everywhere and shrinks prod at night (PROD_WINDOWS).
    "prod": EnvironmentDefaults(
        2,
        "512m",
        "1Gi",
        "10Gi",
        30,
        30,
        autoscaling_max_replicas=10,
        autoscaling_windows=PROD_WINDOWS,
    ),
    "staging": EnvironmentDefaults(1, "256m", "512Mi", "1Gi", 7, 30),
    "dev": EnvironmentDefaults(1, "256m", "512Mi", "1Gi", 7, 30),
}


@dataclass(frozen=True)
class ImageDefaults:
    """The services image the operator was installed with (see config.py)."""

    repository: str
    tag: str


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def as_manifest(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str
    pull_policy: str
    pull_secrets: tuple[str, ...]

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class LocalStorage:
    """A catalog directory: an existing claim, or the sample catalog when ``claim_name`` is None."""

    claim_name: str | None


@dataclass(frozen=True)
class S3Storage:
    bucket: str
    prefix: str
    region: str | None
    endpoint: str | None


Storage = LocalStorage | S3Storage


@dataclass(frozen=True)
class PresignedRedirects:
    enabled: bool
    min_bytes: int
    ttl_seconds: int


@dataclass(frozen=True)
class FileServer:
    replicas: int
    resources: Resources
    storage: Storage
    cache_bytes: int
    allowed_origins: tuple[str, ...]
    service_account_annotations: Mapping[str, str]
    presigned_redirects: PresignedRedirects
    autoscaling: Autoscaling

    @property
    def autoscaled(self) -> bool:
        """An HPA owns the replica count (the default: the seed autoscales the file server)."""
        return self.autoscaling.enabled


@dataclass(frozen=True)
class SecretKeyRef:
    name: str
    key: str


@dataclass(frozen=True)
class Database:
    """spec.feedbackApi.database: SQLite on a volume (the default) or a PostgreSQL the
    user runs, whose ``postgresql://`` URL is in a Secret the user names."""

    size: str
    storage_class_name: str | None
    retain_on_delete: bool
    engine: api.DatabaseEngine
    url_secret: SecretKeyRef | None
    #: The user says the data is in this engine's database (needed to change engine).
    data_copied: bool

    @property
    def is_postgresql(self) -> bool:
        return self.engine == "postgresql"


@dataclass(frozen=True)
class FeedbackApi:
    replicas: int
    resources: Resources
    database: Database
    secret_name: str
    #: feedbackApi.existingSecret: the user manages the Secret (External Secrets, Secrets
    #: Manager); the operator only checks it, and never generates keys for it.
    secret_is_external: bool
    autoscaled: bool
    autoscaling: Autoscaling


@dataclass(frozen=True)
class Ingress:
    enabled: bool
    class_name: str
    host: str | None
    certificate_arn: str | None
    annotations: Mapping[str, str]
    source_cidrs: tuple[str, ...]

    @property
    def is_alb(self) -> bool:
        return self.class_name == api.ALB_INGRESS_CLASS

    @property
    def scheme(self) -> Literal["http", "https"]:
        return "https" if self.certificate_arn else "http"


@dataclass(frozen=True)
class AdminIngress:
    """spec.admin.ingress: whether /admin is routed on the platform's Ingress, and for whom."""

    enabled: bool
    #: Client addresses the ALB lets through to /admin (empty: anyone who reaches the ALB).
    source_cidrs: tuple[str, ...]


@dataclass(frozen=True)
class Admin:
    """spec.admin: the admin panel (sora-admin), off unless asked for."""

    enabled: bool
    replicas: int
    resources: Resources
    #: The Secret holding SESSION_SECRET: spec.admin.sessionSecretName or <name>-admin-secrets.
    session_secret_name: str
    ingress: AdminIngress


@dataclass(frozen=True)
class Backup:
    """spec.backup: the scheduled sora-backup CronJob and where its backups go."""

    enabled: bool
    schedule: str
    retention_days: int
    keep_copies: int
    bucket: str | None
    prefix: str
    region: str | None
    endpoint: str | None
    storage_class: str
    service_account_annotations: Mapping[str, str]
    credentials_secret: str | None
    starting_deadline_seconds: int
    active_deadline_seconds: int
    #: Litestream beside the feedback API, replicating to ``replica_prefix``.
    continuous: bool
    replica_prefix: str

    @property
    def configured(self) -> bool:
        """A bucket is known: backups can be made or restored."""
        return bool(self.bucket)

    @property
    def disabled_by_choice(self) -> bool:
        """A bucket is known but ``enabled: false`` says take no backups."""
        return self.configured and not self.enabled


@dataclass(frozen=True)
class Restore:
    """spec.restore: a person asks for a restore by setting a new ``requestId``."""

    request_id: str
    #: latest, a backup key, or replica.
    source: str
    #: A point in time (RFC 3339, UTC): restore the continuous replica's state then.
    to_time: str | None = None


@dataclass(frozen=True)
class Monitoring:
    """spec.monitoring: what the operator creates for Prometheus and Grafana."""

    service_monitors: bool
    scrape_interval: str
    scrape_timeout: str
    #: Where Prometheus runs: the NetworkPolicies admit its scrapes from there.
    scrape_namespace: str
    prometheus_rule: bool
    dashboard: bool
    dashboard_folder: str | None
    #: Extra labels on the ServiceMonitors and the PrometheusRule (Prometheus selects on them).
    labels: Mapping[str, str]

    @property
    def needs_prometheus_operator(self) -> bool:
        """Something asked for lives in the Prometheus Operator's API (monitoring.coreos.com)."""
        return self.service_monitors or self.prometheus_rule


@dataclass(frozen=True)
class SoraDeployment:
    """Everything the builders need: identity, environment and every resolved section."""

    name: str
    namespace: str
    uid: str
    environment: api.Environment
    image: Image
    file_server: FileServer
    feedback_api: FeedbackApi
    ingress: Ingress
    log_retention_days: int
    backup_retention_days: int
    backup: Backup
    restore: Restore | None
    monitoring: Monitoring
    admin: Admin


def parse(body: Mapping[str, Any], image_defaults: ImageDefaults) -> SoraDeployment:
    """Build the typed, defaulted SoraDeployment from a custom resource body."""
    metadata = body.get("metadata") or {}
    spec = validated(body.get("spec") or {})
    defaults = ENVIRONMENT_DEFAULTS[spec.environment]
    name = str(metadata.get("name", ""))
    return SoraDeployment(
        name=name,
        namespace=str(metadata.get("namespace", "")),
        uid=str(metadata.get("uid", "")),
        environment=spec.environment,
        image=_image(spec.image, image_defaults),
        file_server=_file_server(spec.file_server, defaults),
        feedback_api=_feedback_api(spec.feedback_api, defaults, name),
        ingress=_ingress(spec.ingress),
        log_retention_days=_or(spec.monitoring.log_retention_days, defaults.log_retention_days),
        backup_retention_days=_or(spec.backup.retention_days, defaults.backup_retention_days),
        backup=_backup(spec, defaults),
        restore=_restore(spec),
        monitoring=_monitoring(spec.monitoring),
        admin=_admin(spec, defaults, name),
    )


def validated(spec: Mapping[str, Any]) -> api.SoraDeploymentSpec:
    """The spec read by its model; SpecError names every field that does not fit."""
    try:
        return api.SoraDeploymentSpec.model_validate(spec)
    except ValidationError as error:
        raise SpecError("; ".join(_problems(error))) from None


def _problems(error: ValidationError) -> list[str]:
    """``spec.fileServer.cacheSize: 'lots' is not a Kubernetes quantity``, one per field."""
    problems: dict[str, str] = {}
    for problem in error.errors():
        path = "spec"
        for part in problem["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif part not in ("int", "str"):  # which member of an int-or-string failed
                path += f".{part}"
        problems.setdefault(path, str(problem["msg"]).removeprefix("Value error, "))
    return [f"{path}: {why}" for path, why in problems.items()]


def _or(value: T | None, default: T) -> T:
    """A field's value, or ``default`` where the spec leaves it out."""
    return default if value is None else value


def _monitoring(section: api.Monitoring) -> Monitoring:
    return Monitoring(
        service_monitors=section.service_monitors.enabled,
        scrape_interval=section.service_monitors.interval,
        scrape_timeout=section.service_monitors.scrape_timeout,
        scrape_namespace=section.scrape_namespace,
        prometheus_rule=section.prometheus_rule.enabled,
        dashboard=section.dashboard.enabled,
        dashboard_folder=section.dashboard.folder or None,
        labels=dict(section.labels),
    )


def _backup(spec: api.SoraDeploymentSpec, defaults: EnvironmentDefaults) -> Backup:
    section, environment = spec.backup, spec.environment
    enabled = _backups_enabled(section)
    if enabled and not section.bucket:
        raise SpecError("backup.enabled requires backup.bucket")
    if section.continuous and spec.feedback_api.database.engine == "postgresql":
        raise SpecError(
            "backup.continuous replicates the SQLite database; on PostgreSQL there is no"
            " SQLite file (the database's own point-in-time recovery covers it)"
        )
    continuous = continuous_replication(spec)
    if continuous and not section.bucket:
        raise SpecError("backup.continuous requires backup.bucket")
    replica_prefix = _or(section.replica_prefix, f"replica/{environment}/")
    prefix = _or(section.prefix, f"database/{environment}/")
    if continuous and (replica_prefix.startswith(prefix) or prefix.startswith(replica_prefix)):
        raise SpecError(
            f"backup.replicaPrefix {replica_prefix!r} overlaps backup.prefix {prefix!r};"
            " the replica needs a prefix of its own"
        )
    return Backup(
        enabled=enabled,
        schedule=section.schedule,
        retention_days=_or(section.retention_days, defaults.backup_retention_days),
        keep_copies=section.keep_copies,
        bucket=section.bucket,
        prefix=prefix,
        region=section.region,
        endpoint=section.endpoint,
        storage_class=section.storage_class,
        service_account_annotations=dict(section.service_account.annotations),
        credentials_secret=section.credentials.secret_name,
        starting_deadline_seconds=section.starting_deadline_seconds,
        active_deadline_seconds=section.active_deadline_seconds,
        continuous=continuous,
        replica_prefix=replica_prefix,
    )


def _backups_enabled(section: api.Backup) -> bool:
    # On wherever a bucket is configured: a platform that names where its backups go and
    # takes none looks protected and is not. Off with a bucket is an explicit choice.
    return _or(section.enabled, section.bucket is not None)


def continuous_replication(spec: api.SoraDeploymentSpec) -> bool:
    """``backup.continuous``, defaulted: on in prod wherever backups are on (a recovery
    point of seconds is what prod needs; dev and staging may ask for it). Never on
    PostgreSQL: there is no SQLite file to replicate; the database replicates itself."""
    if spec.feedback_api.database.engine == "postgresql":
        return False
    return _or(spec.backup.continuous, _backups_enabled(spec.backup) and spec.environment == "prod")


def scaling_windows_apply(spec: api.SoraDeploymentSpec) -> bool:
    """Whether a scaling window bounds one of this spec's HPAs, written out or implied by the
    environment (prod's night and day): the window in force then moves with the clock."""
    defaults = ENVIRONMENT_DEFAULTS[spec.environment]
    sections: list[AutoscalingSection] = [spec.file_server.autoscaling]
    if spec.feedback_api.autoscaling.enabled:
        sections.append(spec.feedback_api.autoscaling)
    try:
        parsed = [_autoscaling(section, defaults) for section in sections]
    except SpecError:
        return False  # the reconcile reports the spec; no window can apply meanwhile
    return any(autoscaling.enabled and autoscaling.windows for autoscaling in parsed)


def _restore(spec: api.SoraDeploymentSpec) -> Restore | None:
    section = spec.restore
    if not section.request_id:
        return None
    if spec.feedback_api.database.engine == "postgresql":
        raise SpecError(
            "restore.requestId restores the SQLite database; on PostgreSQL, restores are the"
            " database's (point-in-time recovery)"
        )
    if not spec.backup.bucket:
        raise SpecError("restore.requestId requires backup.bucket (where the backups are)")
    source = section.from_ or "latest"
    if section.to_time is None:
        return Restore(request_id=section.request_id, source=source)
    if source != "latest":
        raise SpecError("restore.toTime restores from the continuous replica; leave out from")
    return Restore(request_id=section.request_id, source="replica", to_time=_utc(section.to_time))


def _utc(to_time: str) -> str:
    """restore.toTime as an RFC 3339 time in UTC (…Z)."""
    try:
        when = datetime.fromisoformat(to_time.replace("Z", "+00:00"))
    except ValueError:
        raise SpecError(f"restore.toTime {to_time!r} is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise SpecError(f"restore.toTime {to_time!r} needs an offset (…Z or +HH:MM)")
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _image(image: api.Image, defaults: ImageDefaults) -> Image:
    return Image(
        repository=_or(image.repository, defaults.repository),
        tag=_or(image.tag, defaults.tag),
        pull_policy=image.pull_policy,
        pull_secrets=image.pull_secrets,
    )


def _resources(section: api.Resources, defaults: EnvironmentDefaults) -> Resources:
    """Per field: yours, else the environment's default request capped at your limit.

    A limit left out equals its resolved request, so the defaults give the seed's
    fixed task sizes (Guaranteed QoS) and a lone request or limit stays consistent.
    """
    resolved: dict[str, tuple[str, str]] = {}
    for resource, default in (("cpu", defaults.cpu), ("memory", defaults.memory)):
        request = getattr(section.requests, resource)
        limit = getattr(section.limits, resource)
        if request is None:
            request = default if limit is None else _smaller(default, limit)
        resolved[resource] = (str(request), str(request if limit is None else limit))
    return Resources(
        cpu_request=resolved["cpu"][0],
        memory_request=resolved["memory"][0],
        cpu_limit=resolved["cpu"][1],
        memory_limit=resolved["memory"][1],
    )


def _smaller(first: object, second: object) -> object:
    return first if _quantity("resources", first) <= _quantity("resources", second) else second


def _file_server(section: api.FileServer, defaults: EnvironmentDefaults) -> FileServer:
    redirects = section.presigned_redirects
    return FileServer(
        replicas=_or(section.replicas, defaults.file_server_replicas),
        resources=_checked_resources("fileServer", section.resources, defaults),
        storage=_storage(section.storage),
        cache_bytes=_byte_count("fileServer.cacheSize", section.cache_size),
        allowed_origins=section.allowed_origins,
        service_account_annotations=dict(section.service_account.annotations),
        presigned_redirects=PresignedRedirects(
            enabled=redirects.enabled,
            min_bytes=_byte_count("fileServer.presignedRedirects.minSize", redirects.min_size),
            ttl_seconds=redirects.ttl_seconds,
        ),
        autoscaling=_autoscaling(section.autoscaling, defaults),
    )


def _autoscaling(section: AutoscalingSection, defaults: EnvironmentDefaults) -> Autoscaling:
    try:
        return parse_autoscaling(
            section,
            defaults.file_server_replicas,
            defaults.autoscaling_max_replicas,
            defaults.autoscaling_windows,
        )
    except AutoscalingError as error:
        raise SpecError(str(error)) from None


def _checked_resources(
    component: str, section: api.Resources, defaults: EnvironmentDefaults
) -> Resources:
    resolved = _resources(section, defaults)
    for resource in ("cpu", "memory"):
        request = getattr(resolved, f"{resource}_request")
        limit = getattr(resolved, f"{resource}_limit")
        if _quantity(f"{component}.resources", request) > _quantity(
            f"{component}.resources", limit
        ):
            raise SpecError(
                f"{component}.resources: the {resource} request {request} is more than "
                f"the limit {limit}"
            )
    return resolved


def _storage(section: api.Storage) -> Storage:
    if section.type == "s3":
        if section.s3 is None:
            raise SpecError("fileServer.storage.type s3 requires fileServer.storage.s3.bucket")
        s3 = section.s3
        return S3Storage(
            bucket=s3.bucket, prefix=s3.prefix or "", region=s3.region, endpoint=s3.endpoint
        )
    return LocalStorage(claim_name=section.local.claim_name)


def _feedback_api(
    section: api.FeedbackApi, defaults: EnvironmentDefaults, name: str
) -> FeedbackApi:
    existing = section.existing_secret
    if existing and section.secret_name:
        raise SpecError("feedbackApi.existingSecret and feedbackApi.secretName: name one of them")
    database = _database(section.database, defaults)
    autoscaled = section.autoscaling.enabled
    # On PostgreSQL the API is stateless like the file server: the same replica defaults
    # and the same autoscaling (the seed's 2-10 in prod). SQLite has a single writer.
    replicas = _or(section.replicas, defaults.file_server_replicas if database.is_postgresql else 1)
    if not database.is_postgresql and (replicas > 1 or autoscaled):
        raise SpecError(
            "feedbackApi: more than one replica (or autoscaling) needs"
            " database.engine postgresql: SQLite has a single writer"
        )
    return FeedbackApi(
        replicas=replicas,
        resources=_checked_resources("feedbackApi", section.resources, defaults),
        database=database,
        secret_name=existing or section.secret_name or f"{name}-secrets",
        secret_is_external=bool(existing),
        autoscaled=autoscaled,
        autoscaling=_autoscaling(section.autoscaling, defaults),
    )


def _database(section: api.Database, defaults: EnvironmentDefaults) -> Database:
    size = str(_or(section.size, defaults.database_size))
    _byte_count("feedbackApi.database.size", size)
    ref = section.url_secret_ref
    if section.engine == "postgresql" and ref is None:
        raise SpecError(
            "feedbackApi.database.engine postgresql requires database.urlSecretRef.name"
            " (a Secret holding the postgresql:// URL)"
        )
    return Database(
        size=size,
        storage_class_name=section.storage_class_name,
        retain_on_delete=section.retain_on_delete,
        engine=section.engine,
        url_secret=(SecretKeyRef(ref.name, ref.key or DEFAULT_DATABASE_URL_KEY) if ref else None),
        data_copied=section.data_copied,
    )


def engine_change_refusal(sora: SoraDeployment, recorded_engine: str | None) -> str | None:
    """Why the engine may not change now (None: it may). ``recorded_engine``: the engine the
    operator last ran the feedback API on (status.database.engine)."""
    engine = sora.feedback_api.database.engine
    if recorded_engine is None or recorded_engine == engine:
        return None
    if sora.feedback_api.database.data_copied:
        return None
    return (
        f"feedbackApi.database.engine changed from {recorded_engine} to {engine}, but the"
        f" feedback is still in the {recorded_engine} database. Copy it first"
        " (sora-feedback-api copy-to-postgres, docs/feedback-api.md), then set"
        " feedbackApi.database.dataCopied: true."
    )


def _admin(spec: api.SoraDeploymentSpec, defaults: EnvironmentDefaults, name: str) -> Admin:
    section = spec.admin
    return Admin(
        enabled=section.enabled,
        replicas=section.replicas,
        resources=_checked_resources("admin", section.resources, defaults),
        session_secret_name=section.session_secret_name or f"{name}-admin-secrets",
        ingress=_admin_ingress(section.ingress, spec.ingress),
    )


def _admin_ingress(section: api.AdminIngress, platform_ingress: api.Ingress) -> AdminIngress:
    """Only the ALB can hold one path to a list of client addresses (a rule condition)."""
    class_name = platform_ingress.class_name
    if section.source_cidrs and class_name != api.ALB_INGRESS_CLASS:
        raise SpecError(
            f"admin.ingress.sourceCidrs needs ingress.className {api.ALB_INGRESS_CLASS}: "
            f"class {class_name} cannot restrict /admin alone by client address; set "
            "admin.ingress.enabled false and reach the panel another way"
        )
    return AdminIngress(enabled=section.enabled, source_cidrs=section.source_cidrs)


def _ingress(section: api.Ingress) -> Ingress:
    return Ingress(
        enabled=section.enabled,
        class_name=section.class_name,
        host=section.host,
        certificate_arn=section.certificate_arn,
        annotations=dict(section.annotations),
        source_cidrs=section.source_cidrs,
    )


def _quantity(field_name: str, value: object) -> Decimal:
    try:
        return Decimal(parse_quantity(value))
    except (ValueError, TypeError, InvalidOperation):
        raise SpecError(f"{field_name}: {value!r} is not a Kubernetes quantity") from None


def _byte_count(field_name: str, value: object) -> int:
    """A quantity such as ``512Mi`` as a whole number of bytes."""
    amount = _quantity(field_name, value)
    if amount < 0:
        raise SpecError(f"{field_name}: {value!r} is negative")
    return int(amount)


def missing_secret_keys(
    data: Mapping[str, str] | None, keys: tuple[str, ...] = SECRET_KEYS
) -> tuple[str, ...]:
    """The required secret keys that are missing or empty in a Secret's ``data``."""
    data = data or {}
    return tuple(key for key in keys if not _decodes_to_text(data.get(key)))


def _decodes_to_text(value: str | None) -> bool:
    if not value:
        return False
    try:
        return bool(base64.b64decode(value, validate=True).strip())
    except (binascii.Error, ValueError):
        return False
