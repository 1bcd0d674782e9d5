"""A SoraDeployment as typed, frozen values, with the environment's defaults applied.

The CRD validates shapes, bounds and cross-field rules; what it cannot do is a
default that depends on another field (``environment``). That happens here, once,
so that the builders only ever see complete values. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from kubernetes.utils import parse_quantity

from sora_operator.autoscaling import (
    PROD_WINDOWS,
    Autoscaling,
    AutoscalingError,
    ScalingWindow,
    parse_autoscaling,
)

GROUP: Final = "sora.example.com"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "SoraDeployment"
PLURAL: Final = "soradeployments"

ENVIRONMENTS: Final = ("dev", "staging", "prod")
SECRET_KEYS: Final = ("ENCRYPTION_KEY", "IP_SALT", "ADMIN_TOKEN")
#: The admin panel's own Secret: only the key that signs its session cookies.
ADMIN_SECRET_KEYS: Final = ("SESSION_SECRET",)

# Defaults the CRD also declares (kept equal by a unit test).
DEFAULT_CACHE_SIZE: Final = "1Gi"
DEFAULT_PULL_POLICY: Final = "IfNotPresent"
DEFAULT_INGRESS_CLASS: Final = "alb"
DEFAULT_REDIRECT_MIN_SIZE: Final = "8Mi"
DEFAULT_REDIRECT_TTL_SECONDS: Final = 300
DEFAULT_BACKUP_SCHEDULE: Final = "0 3 * * *"
DEFAULT_BACKUP_STORAGE_CLASS: Final = "STANDARD_IA"
DEFAULT_BACKUP_KEEP_COPIES: Final = 1
DEFAULT_BACKUP_STARTING_DEADLINE_SECONDS: Final = 600
DEFAULT_BACKUP_ACTIVE_DEADLINE_SECONDS: Final = 3600
DEFAULT_SCRAPE_INTERVAL: Final = "30s"
DEFAULT_SCRAPE_TIMEOUT: Final = "10s"
DEFAULT_SCRAPE_NAMESPACE: Final = "monitoring"


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


ENVIRONMENT_DEFAULTS: Final[Mapping[str, EnvironmentDefaults]] = {
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
    pull_secrets: tuple[str, ...] = ()

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class LocalStorage:
    """A catalog directory: an existing claim, or the sample catalog when ``claim_name`` is None."""

    claim_name: str | None = None


@dataclass(frozen=True)
class S3Storage:
    bucket: str
    prefix: str = ""
    region: str | None = None
    endpoint: str | None = None


Storage = LocalStorage | S3Storage


@dataclass(frozen=True)
class PresignedRedirects:
    enabled: bool = False
    min_bytes: int = 8 * 1024**2
    ttl_seconds: int = DEFAULT_REDIRECT_TTL_SECONDS


@dataclass(frozen=True)
class FileServer:
    replicas: int
    resources: Resources
    storage: Storage
    cache_bytes: int
    allowed_origins: tuple[str, ...] = ()
    service_account_annotations: Mapping[str, str] = field(default_factory=dict)
    presigned_redirects: PresignedRedirects = PresignedRedirects()
    autoscaling: Autoscaling = field(default_factory=Autoscaling)

    @property
    def autoscaled(self) -> bool:
        """An HPA owns the replica count (the default: the seed autoscales the file server)."""
        return self.autoscaling.enabled


DATABASE_ENGINES: Final = ("sqlite", "postgresql")
DEFAULT_DATABASE_URL_KEY: Final = "url"


@dataclass(frozen=True)
class SecretKeyRef:
    name: str
    key: str = DEFAULT_DATABASE_URL_KEY


@dataclass(frozen=True)
class Database:
    """spec.feedbackApi.database: SQLite on a volume (the default) or a PostgreSQL the
    user runs, whose ``postgresql://`` URL is in a Secret the user names."""

    size: str
    storage_class_name: str | None = None
    retain_on_delete: bool = True
    engine: str = "sqlite"
    url_secret: SecretKeyRef | None = None
    #: The user says the data is in this engine's database (needed to change engine).
    data_copied: bool = False

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
    secret_is_external: bool = False
    autoscaled: bool = False
    autoscaling: Autoscaling = field(default_factory=Autoscaling)


@dataclass(frozen=True)
class Ingress:
    enabled: bool = True
    class_name: str = DEFAULT_INGRESS_CLASS
    host: str | None = None
    certificate_arn: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    source_cidrs: tuple[str, ...] = ()

    @property
    def is_alb(self) -> bool:
        return self.class_name == DEFAULT_INGRESS_CLASS

    @property
    def scheme(self) -> Literal["http", "https"]:
        return "https" if self.certificate_arn else "http"


@dataclass(frozen=True)
class AdminIngress:
    """spec.admin.ingress: whether /admin is routed on the platform's Ingress, and for whom."""

    enabled: bool = True
    #: Client addresses the ALB lets through to /admin (empty: anyone who reaches the ALB).
    source_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Admin:
    """spec.admin: the admin panel (sora-admin), off unless asked for."""

    enabled: bool = False
    replicas: int = 1
    resources: Resources = Resources(
        ENVIRONMENT_DEFAULTS["dev"].cpu,
        ENVIRONMENT_DEFAULTS["dev"].memory,
        ENVIRONMENT_DEFAULTS["dev"].cpu,
        ENVIRONMENT_DEFAULTS["dev"].memory,
    )
    #: The Secret holding SESSION_SECRET; parse() fills in <name>-admin-secrets.
    session_secret_name: str = ""
    ingress: AdminIngress = AdminIngress()


@dataclass(frozen=True)
class Backup:
    """spec.backup: the scheduled sora-backup CronJob and where its backups go."""

    enabled: bool = False
    schedule: str = DEFAULT_BACKUP_SCHEDULE
    retention_days: int = 30
    keep_copies: int = DEFAULT_BACKUP_KEEP_COPIES
    bucket: str | None = None
    prefix: str = ""
    region: str | None = None
    endpoint: str | None = None
    storage_class: str = DEFAULT_BACKUP_STORAGE_CLASS
    service_account_annotations: Mapping[str, str] = field(default_factory=dict)
    credentials_secret: str | None = None
    starting_deadline_seconds: int = DEFAULT_BACKUP_STARTING_DEADLINE_SECONDS
    active_deadline_seconds: int = DEFAULT_BACKUP_ACTIVE_DEADLINE_SECONDS
    #: Litestream beside the feedback API, replicating to ``replica_prefix``.
    continuous: bool = False
    replica_prefix: str = ""

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
    source: str = "latest"
    #: A point in time (RFC 3339, UTC): restore the continuous replica's state then.
    to_time: str | None = None


@dataclass(frozen=True)
class Monitoring:
    """spec.monitoring: what the operator creates for Prometheus and Grafana."""

    service_monitors: bool = False
    scrape_interval: str = DEFAULT_SCRAPE_INTERVAL
    scrape_timeout: str = DEFAULT_SCRAPE_TIMEOUT
    #: Where Prometheus runs: the NetworkPolicies admit its scrapes from there.
    scrape_namespace: str = DEFAULT_SCRAPE_NAMESPACE
    prometheus_rule: bool = False
    dashboard: bool = False
    dashboard_folder: str | None = None
    #: Extra labels on the ServiceMonitors and the PrometheusRule (Prometheus selects on them).
    labels: Mapping[str, str] = field(default_factory=dict)

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
    environment: str
    image: Image
    file_server: FileServer
    feedback_api: FeedbackApi
    ingress: Ingress
    log_retention_days: int
    backup_retention_days: int
    backup: Backup = Backup()
    restore: Restore | None = None
    monitoring: Monitoring = Monitoring()
    admin: Admin = Admin()


def parse(body: Mapping[str, Any], image_defaults: ImageDefaults) -> SoraDeployment:
    """Build the typed, defaulted SoraDeployment from a custom resource body."""
    metadata = body.get("metadata") or {}
    spec = body.get("spec") or {}
    environment = str(spec.get("environment"))
    if environment not in ENVIRONMENT_DEFAULTS:
        raise SpecError(f"spec.environment must be one of {', '.join(ENVIRONMENTS)}")
    defaults = ENVIRONMENT_DEFAULTS[environment]
    name = str(metadata.get("name", ""))
    return SoraDeployment(
        name=name,
        namespace=str(metadata.get("namespace", "")),
        uid=str(metadata.get("uid", "")),
        environment=environment,
        image=_image(spec.get("image") or {}, image_defaults),
        file_server=_file_server(spec.get("fileServer") or {}, defaults),
        feedback_api=_feedback_api(spec.get("feedbackApi") or {}, defaults, name),
        ingress=_ingress(spec.get("ingress") or {}),
        log_retention_days=int(
            _section(spec, "monitoring").get("logRetentionDays", defaults.log_retention_days)
        ),
        backup_retention_days=int(
            _section(spec, "backup").get("retentionDays", defaults.backup_retention_days)
        ),
        backup=_backup(
            _section(spec, "backup"), defaults, environment, _section(spec, "feedbackApi")
        ),
        restore=_restore(
            _section(spec, "restore"), _section(spec, "backup"), _section(spec, "feedbackApi")
        ),
        monitoring=_monitoring(_section(spec, "monitoring")),
        admin=_admin(_section(spec, "admin"), defaults, name, _section(spec, "ingress")),
    )


def _monitoring(section: Mapping[str, Any]) -> Monitoring:
    service_monitors = _section(section, "serviceMonitors")
    dashboard = _section(section, "dashboard")
    return Monitoring(
        service_monitors=bool(service_monitors.get("enabled", False)),
        scrape_interval=str(service_monitors.get("interval", DEFAULT_SCRAPE_INTERVAL)),
        scrape_timeout=str(service_monitors.get("scrapeTimeout", DEFAULT_SCRAPE_TIMEOUT)),
        scrape_namespace=str(section.get("scrapeNamespace", DEFAULT_SCRAPE_NAMESPACE)),
        prometheus_rule=bool(_section(section, "prometheusRule").get("enabled", False)),
        dashboard=bool(dashboard.get("enabled", False)),
        dashboard_folder=dashboard.get("folder") or None,
        labels=dict(section.get("labels") or {}),
    )


def _backup(
    section: Mapping[str, Any],
    defaults: EnvironmentDefaults,
    environment: str,
    feedback: Mapping[str, Any],
) -> Backup:
    bucket = section.get("bucket") or None
    # On wherever a bucket is configured: a platform that names where its backups go and
    # takes none looks protected and is not. Off with a bucket is an explicit choice.
    enabled = bool(section.get("enabled", bucket is not None))
    if enabled and not bucket:
        raise SpecError("backup.enabled requires backup.bucket")
    service_account = section.get("serviceAccount") or {}
    credentials = section.get("credentials") or {}
    if section.get("continuous") and _section(feedback, "database").get("engine") == "postgresql":
        raise SpecError(
            "backup.continuous replicates the SQLite database; on PostgreSQL there is no"
            " SQLite file (the database's own point-in-time recovery covers it)"
        )
    continuous = continuous_replication(section, environment, feedback)
    if continuous and not bucket:
        raise SpecError("backup.continuous requires backup.bucket")
    replica_prefix = str(section.get("replicaPrefix", f"replica/{environment}/"))
    prefix = str(section.get("prefix", f"database/{environment}/"))
    if continuous and (replica_prefix.startswith(prefix) or prefix.startswith(replica_prefix)):
        raise SpecError(
            f"backup.replicaPrefix {replica_prefix!r} overlaps backup.prefix {prefix!r};"
            " the replica needs a prefix of its own"
        )
    return Backup(
        enabled=enabled,
        schedule=str(section.get("schedule", DEFAULT_BACKUP_SCHEDULE)),
        retention_days=int(section.get("retentionDays", defaults.backup_retention_days)),
        keep_copies=int(section.get("keepCopies", DEFAULT_BACKUP_KEEP_COPIES)),
        bucket=bucket,
        prefix=prefix,
        region=section.get("region"),
        endpoint=section.get("endpoint"),
        storage_class=str(section.get("storageClass", DEFAULT_BACKUP_STORAGE_CLASS)),
        service_account_annotations=dict(service_account.get("annotations") or {}),
        credentials_secret=credentials.get("secretName"),
        starting_deadline_seconds=int(
            section.get("startingDeadlineSeconds", DEFAULT_BACKUP_STARTING_DEADLINE_SECONDS)
        ),
        active_deadline_seconds=int(
            section.get("activeDeadlineSeconds", DEFAULT_BACKUP_ACTIVE_DEADLINE_SECONDS)
        ),
        continuous=continuous,
        replica_prefix=replica_prefix,
    )


def continuous_replication(
    backup: Mapping[str, Any], environment: str, feedback: Mapping[str, Any]
) -> bool:
    """``backup.continuous``, defaulted: on in prod wherever backups are on (a recovery
    point of seconds is what prod needs; dev and staging may ask for it). Never on
    PostgreSQL: there is no SQLite file to replicate; the database replicates itself."""
    if _section(feedback, "database").get("engine") == "postgresql":
        return False
    bucket = backup.get("bucket") or None
    enabled = bool(backup.get("enabled", bucket is not None))
    return bool(backup.get("continuous", enabled and environment == "prod"))


def scaling_windows_apply(spec: Mapping[str, Any]) -> bool:
    """Whether a scaling window bounds one of this spec's HPAs, written out or implied by the
    environment (prod's night and day): the window in force then moves with the clock."""
    defaults = ENVIRONMENT_DEFAULTS.get(str(spec.get("environment")))
    if defaults is None:
        return False
    feedback = _section(spec, "feedbackApi")
    sections = [_section(_section(spec, "fileServer"), "autoscaling")]
    if _section(feedback, "autoscaling").get("enabled"):
        sections.append(_section(feedback, "autoscaling"))
    try:
        parsed = [_autoscaling(section, defaults) for section in sections]
    except SpecError:
        return False  # the reconcile reports the spec; no window can apply meanwhile
    return any(autoscaling.enabled and autoscaling.windows for autoscaling in parsed)


def _restore(
    section: Mapping[str, Any], backup: Mapping[str, Any], feedback: Mapping[str, Any]
) -> Restore | None:
    request_id = section.get("requestId")
    if not request_id:
        return None
    if _section(feedback, "database").get("engine") == "postgresql":
        raise SpecError(
            "restore.requestId restores the SQLite database; on PostgreSQL, restores are the"
            " database's (point-in-time recovery)"
        )
    if not backup.get("bucket"):
        raise SpecError("restore.requestId requires backup.bucket (where the backups are)")
    source = str(section.get("from") or "latest")
    to_time = section.get("toTime")
    if to_time is None:
        return Restore(request_id=str(request_id), source=source)
    if source != "latest":
        raise SpecError("restore.toTime restores from the continuous replica; leave out from")
    try:
        when = datetime.fromisoformat(str(to_time).replace("Z", "+00:00"))
    except ValueError:
        raise SpecError(f"restore.toTime {to_time!r} is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise SpecError(f"restore.toTime {to_time!r} needs an offset (…Z or +HH:MM)")
    stamp = when.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return Restore(request_id=str(request_id), source="replica", to_time=stamp)


def _section(spec: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = spec.get(key)
    return value if isinstance(value, Mapping) else {}


def _image(image: Mapping[str, Any], defaults: ImageDefaults) -> Image:
    return Image(
        repository=image.get("repository", defaults.repository),
        tag=image.get("tag", defaults.tag),
        pull_policy=image.get("pullPolicy", DEFAULT_PULL_POLICY),
        pull_secrets=tuple(image.get("pullSecrets", ())),
    )


def resources(section: Mapping[str, Any], defaults: EnvironmentDefaults) -> Resources:
    """Per field: yours, else the environment's default request capped at your limit.

    A limit left out equals its resolved request, so the defaults give the seed's
    fixed task sizes (Guaranteed QoS) and a lone request or limit stays consistent.
    """
    requests = section.get("requests") or {}
    limits = section.get("limits") or {}
    resolved: dict[str, tuple[str, str]] = {}
    for resource, default in (("cpu", defaults.cpu), ("memory", defaults.memory)):
        request = requests.get(resource)
        limit = limits.get(resource)
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


def _file_server(section: Mapping[str, Any], defaults: EnvironmentDefaults) -> FileServer:
    autoscaling = section.get("autoscaling") or {}
    return FileServer(
        replicas=int(section.get("replicas", defaults.file_server_replicas)),
        resources=_checked_resources("fileServer", section.get("resources") or {}, defaults),
        storage=_storage(section.get("storage") or {}),
        cache_bytes=byte_count(
            "fileServer.cacheSize", section.get("cacheSize", DEFAULT_CACHE_SIZE)
        ),
        allowed_origins=tuple(section.get("allowedOrigins", ())),
        service_account_annotations=dict(
            (section.get("serviceAccount") or {}).get("annotations") or {}
        ),
        presigned_redirects=_redirects(section.get("presignedRedirects") or {}),
        autoscaling=_autoscaling(autoscaling, defaults),
    )


def _autoscaling(section: Mapping[str, Any], defaults: EnvironmentDefaults) -> Autoscaling:
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
    component: str, section: Mapping[str, Any], defaults: EnvironmentDefaults
) -> Resources:
    resolved = resources(section, defaults)
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


def _storage(section: Mapping[str, Any]) -> Storage:
    if section.get("type", "local") == "s3":
        s3 = section.get("s3") or {}
        if not s3.get("bucket"):
            raise SpecError("fileServer.storage.type s3 requires fileServer.storage.s3.bucket")
        return S3Storage(
            bucket=s3["bucket"],
            prefix=s3.get("prefix", ""),
            region=s3.get("region"),
            endpoint=s3.get("endpoint"),
        )
    local = section.get("local") or {}
    return LocalStorage(claim_name=local.get("claimName"))


def _redirects(section: Mapping[str, Any]) -> PresignedRedirects:
    return PresignedRedirects(
        enabled=bool(section.get("enabled", False)),
        min_bytes=byte_count(
            "fileServer.presignedRedirects.minSize",
            section.get("minSize", DEFAULT_REDIRECT_MIN_SIZE),
        ),
        ttl_seconds=int(section.get("ttlSeconds", DEFAULT_REDIRECT_TTL_SECONDS)),
    )


def _feedback_api(
    section: Mapping[str, Any], defaults: EnvironmentDefaults, name: str
) -> FeedbackApi:
    existing = section.get("existingSecret")
    if existing and section.get("secretName"):
        raise SpecError("feedbackApi.existingSecret and feedbackApi.secretName: name one of them")
    database = _database(_section(section, "database"), defaults)
    autoscaling = _section(section, "autoscaling")
    autoscaled = bool(autoscaling.get("enabled", False))
    # On PostgreSQL the API is stateless like the file server: the same replica defaults
    # and the same autoscaling (the seed's 2-10 in prod). SQLite has a single writer.
    replicas = int(
        section.get("replicas", defaults.file_server_replicas if database.is_postgresql else 1)
    )
    if not database.is_postgresql and (replicas > 1 or autoscaled):
        raise SpecError(
            "feedbackApi: more than one replica (or autoscaling) needs"
            " database.engine postgresql: SQLite has a single writer"
        )
    return FeedbackApi(
        replicas=replicas,
        resources=_checked_resources("feedbackApi", section.get("resources") or {}, defaults),
        database=database,
        secret_name=existing or section.get("secretName") or f"{name}-secrets",
        secret_is_external=bool(existing),
        autoscaled=autoscaled,
        autoscaling=_autoscaling(autoscaling, defaults),
    )


def _database(section: Mapping[str, Any], defaults: EnvironmentDefaults) -> Database:
    engine = str(section.get("engine", "sqlite"))
    if engine not in DATABASE_ENGINES:
        raise SpecError(f"feedbackApi.database.engine must be one of {', '.join(DATABASE_ENGINES)}")
    size = str(section.get("size", defaults.database_size))
    byte_count("feedbackApi.database.size", size)
    ref = _section(section, "urlSecretRef")
    if engine == "postgresql" and not ref.get("name"):
        raise SpecError(
            "feedbackApi.database.engine postgresql requires database.urlSecretRef.name"
            " (a Secret holding the postgresql:// URL)"
        )
    return Database(
        size=size,
        storage_class_name=section.get("storageClassName"),
        retain_on_delete=bool(section.get("retainOnDelete", True)),
        engine=engine,
        url_secret=(
            SecretKeyRef(str(ref["name"]), str(ref.get("key") or DEFAULT_DATABASE_URL_KEY))
            if ref.get("name")
            else None
        ),
        data_copied=bool(section.get("dataCopied", False)),
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


def _admin(
    section: Mapping[str, Any],
    defaults: EnvironmentDefaults,
    name: str,
    platform_ingress: Mapping[str, Any],
) -> Admin:
    return Admin(
        enabled=bool(section.get("enabled", False)),
        replicas=int(section.get("replicas", 1)),
        resources=_checked_resources("admin", section.get("resources") or {}, defaults),
        session_secret_name=section.get("sessionSecretName") or f"{name}-admin-secrets",
        ingress=_admin_ingress(_section(section, "ingress"), platform_ingress),
    )


def _admin_ingress(section: Mapping[str, Any], platform_ingress: Mapping[str, Any]) -> AdminIngress:
    """Only the ALB can hold one path to a list of client addresses (a rule condition)."""
    source_cidrs = tuple(section.get("sourceCidrs", ()))
    class_name = platform_ingress.get("className", DEFAULT_INGRESS_CLASS)
    if source_cidrs and class_name != DEFAULT_INGRESS_CLASS:
        raise SpecError(
            f"admin.ingress.sourceCidrs needs ingress.className {DEFAULT_INGRESS_CLASS}: "
            f"class {class_name} cannot restrict /admin alone by client address; set "
            "admin.ingress.enabled false and reach the panel another way"
        )
    return AdminIngress(enabled=bool(section.get("enabled", True)), source_cidrs=source_cidrs)


def _ingress(section: Mapping[str, Any]) -> Ingress:
    return Ingress(
        enabled=bool(section.get("enabled", True)),
        class_name=section.get("className", DEFAULT_INGRESS_CLASS),
        host=section.get("host"),
        certificate_arn=section.get("certificateArn"),
        annotations=dict(section.get("annotations") or {}),
        source_cidrs=tuple(section.get("sourceCidrs", ())),
    )


def _quantity(field_name: str, value: object) -> Decimal:
    try:
        return Decimal(parse_quantity(value))
    except (ValueError, TypeError, InvalidOperation):
        raise SpecError(f"{field_name}: {value!r} is not a Kubernetes quantity") from None


def byte_count(field_name: str, value: object) -> int:
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
