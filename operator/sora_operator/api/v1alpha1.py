"""sora.example.com/v1alpha1: the SoraDeployment as pydantic models, the CRD's one source.

``hack/crd-gen.py`` (``make crd``) writes ``crds/sora.example.com_soradeployments.yaml``
from these classes, as controller-gen writes CloudNativePG's CRDs from its Go types:

* a class docstring is the description of its object, a field's docstring (the string
  under it) the description of the field;
* the type is the schema's type (``Literal``: an enum, ``Int32``: format int32, a model:
  an object, ``tuple``: an array, ``dict[str, str]``: a map, ``dict[str, Any]`` or
  ``extra="allow"``: x-kubernetes-preserve-unknown-fields);
* a field without a default is required; ``X | None = None`` is optional with no default;
  a default value is the CRD's ``default``, which the API server fills in
  (``default_empty``: ``default: {}``); ``default_factory`` alone is no CRD default;
* the other keywords keep their CRD names: ``field(minimum=0, maxLength=63, ...)`` on a
  field, ``Schema(...)`` on a type, ``model_config = cel(Rule(...))`` for the CEL rules
  (``x-kubernetes-validations``) of an object.

Validation checks types, enums and required fields, and fills in the CRD's defaults, so a
spec reads the same with or without the API server's defaults (unit tests write specs by
hand). Bounds, lengths, patterns and CEL rules are the API server's to enforce: an object
it stored under an older, looser CRD still reconciles. Defaults that depend on
``environment`` cannot be CRD defaults; those fields are optional here and spec.py
resolves them, with the checks the operator relies on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal, NamedTuple, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict, JsonValue
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticUndefined

GROUP: Final = "sora.example.com"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "SoraDeployment"
PLURAL: Final = "soradeployments"
SINGULAR: Final = "soradeployment"
SHORT_NAMES: Final = ("sora",)
CATEGORIES: Final = ("sora",)

#: What ``kubectl get sora`` shows (additionalPrinterColumns).
PRINTER_COLUMNS: Final[tuple[dict[str, str | int], ...]] = (
    {"name": "Environment", "type": "string", "jsonPath": ".spec.environment"},
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
    },
    {
        "name": "File server replicas",
        "type": "string",
        "description": "Ready file server pods over desired ones.",
        "jsonPath": ".status.fileServer.ready",
    },
    {"name": "Last backup", "type": "date", "jsonPath": ".status.lastBackup.time"},
    {
        "name": "Reason",
        "type": "string",
        "priority": 1,
        "jsonPath": '.status.conditions[?(@.type=="Ready")].reason',
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
)

Environment = Literal["dev", "staging", "prod"]
DatabaseEngine = Literal["sqlite", "postgresql"]

#: The IngressClass of the AWS Load Balancer Controller: the default, and the one class that
#: gets the seed's ALB rules.
ALB_INGRESS_CLASS: Final = "alb"

# -- Shared shapes --------------------------------------------------------------------------

#: A Kubernetes object name (DNS-1123 subdomain): Secrets, claims, classes.
DNS_SUBDOMAIN: Final = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
DNS_LABEL: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class Schema:
    """CRD keywords of a type (``format``, ``maxLength``, ``pattern``, ...): written into the
    schema for the API server to enforce, not checked again here."""

    def __init__(self, **keywords: JsonValue) -> None:
        self.keywords = keywords

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), **self.keywords}


def field(default: Any = PydanticUndefined, **keywords: Any) -> Any:
    """A field with CRD keywords (``minimum``, ``maxLength``, ``x-kubernetes-list-type``, ...)
    for the API server to enforce: the schema's, not checked again here (as Schema).
    ``default_factory=`` gives a default that is not the CRD's (an empty list or object)."""
    factory = keywords.pop("default_factory", None)
    if factory is not None:
        return Field(default_factory=factory, json_schema_extra=keywords)
    return Field(default, json_schema_extra=keywords)


ObjectName = Annotated[str, Schema(maxLength=253, pattern=DNS_SUBDOMAIN)]
Cidr = Annotated[str, Schema(maxLength=43, pattern=r"^[0-9a-fA-F.:]+/[0-9]{1,3}$")]
#: A Prometheus duration such as 30s or 1m30s.
Duration = Annotated[str, Schema(pattern=r"^([0-9]+(ms|s|m|h))+$")]
Int32 = Annotated[int, Schema(format="int32")]
Int64 = Annotated[int, Schema(format="int64")]
Replicas = Annotated[int, Schema(format="int32", minimum=0, maximum=100)]
#: A list of unique values.
SET: Final[JsonDict] = {"x-kubernetes-list-type": "set"}

#: Quantities of CPU and memory (250m, 1, 512Mi).
QUANTITY: Final = r"^(\+)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[mkMGTPE])?$"
#: Sizes in bytes (512Mi, 1G): as QUANTITY without milli-units.
BYTES: Final = r"^(\+)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[kMGTPE])?$"
#: Request rates (0.5, 500m, 16).
RATE: Final = r"^(\+)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(m|[kMG])?$"


@dataclass(frozen=True)
class IntOrString:
    """A Kubernetes quantity: an integer, or a string matching ``pattern``
    (``x-kubernetes-int-or-string``); spec.py reads the quantities it uses."""

    pattern: str
    #: Whether the schema spells the two types out (anyOf); the API server needs neither.
    any_of: bool = True

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        types = {"anyOf": [{"type": "integer"}, {"type": "string"}]} if self.any_of else {}
        return {**types, "x-kubernetes-int-or-string": True, "pattern": self.pattern}


Quantity = Annotated[int | str, IntOrString(QUANTITY)]
ByteSize = Annotated[int | str, IntOrString(BYTES)]
# Written without anyOf since the first CRD; the API server accepts both spellings.
RequestRate = Annotated[int | str, IntOrString(RATE, any_of=False)]


class Rule(NamedTuple):
    """One CEL rule of an object, with the message the API server answers when it fails."""

    rule: str
    message: str


def cel(*rules: Rule) -> ConfigDict:
    """An object's ``x-kubernetes-validations``, as its ``model_config``."""
    return ConfigDict(
        json_schema_extra={"x-kubernetes-validations": [rule._asdict() for rule in rules]}
    )


SectionT = TypeVar("SectionT", bound=BaseModel)


def default_empty(section: Callable[[], SectionT]) -> Any:
    """A section with ``default: {}``: the API server creates it when left out, so that the
    defaults inside it apply; the model does the same with a default instance."""
    return Field(default_factory=section, json_schema_extra={"default": {}})


class Model(BaseModel):
    """An object of the CRD: camelCase keys; unknown keys are dropped, as the API server
    prunes them."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
        use_attribute_docstrings=True,
    )


class ResourceAmounts(Model):
    cpu: Quantity | None = None
    """CPU, such as 250m or 1."""
    memory: Quantity | None = None
    """Memory, such as 512Mi or 1Gi."""


class Resources(Model):
    """CPU and memory per pod. Default: requests and limits of 512m CPU and 1Gi memory in prod,
    256m and 512Mi elsewhere (the seed's Fargate task sizes). A limit left out equals its
    request."""

    model_config = cel(
        Rule(
            "!has(self.requests) || !has(self.limits) || !has(self.requests.cpu) ||"
            " !has(self.limits.cpu) || quantity(string(self.requests.cpu))"
            ".compareTo(quantity(string(self.limits.cpu))) <= 0",
            "resources.requests.cpu cannot be more than resources.limits.cpu",
        ),
        Rule(
            "!has(self.requests) || !has(self.limits) || !has(self.requests.memory) ||"
            " !has(self.limits.memory) || quantity(string(self.requests.memory))"
            ".compareTo(quantity(string(self.limits.memory))) <= 0",
            "resources.requests.memory cannot be more than resources.limits.memory",
        ),
    )

    requests: ResourceAmounts = Field(default_factory=ResourceAmounts)
    """What the scheduler reserves for each pod."""
    limits: ResourceAmounts = Field(default_factory=ResourceAmounts)
    """The most each pod may use; memory above it gets the pod killed."""


# -- spec.image -----------------------------------------------------------------------------


class Image(Model):
    """The Sora services image (one image holds sora-file-server, sora-feedback-api, sora-admin
    and sora-backup). Unset fields fall back to the image the operator was installed with."""

    repository: str | None = field(
        None,
        maxLength=255,
        pattern=r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$",
    )
    """Image repository without tag, for example
    123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/sora/services."""
    tag: str | None = field(None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    """Image tag, for example 1.4.2. Prefer an immutable tag over latest."""
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    """When the kubelet pulls the image (Kubernetes imagePullPolicy)."""
    pull_secrets: tuple[ObjectName, ...] = field(default_factory=tuple, maxItems=8, **SET)
    """Names of Secrets of type kubernetes.io/dockerconfigjson in this namespace used to pull the
    image from a private registry."""


# -- Autoscaling (spec.fileServer.autoscaling, spec.feedbackApi.autoscaling) ----------------


class RequestsPerSecond(Model):
    """Requests per second per pod, a Pods metric a custom metrics adapter (the Prometheus
    adapter) serves. Off by default."""

    enabled: bool | None = None
    """Add the metric to the autoscaler (default false)."""
    metric_name: str | None = field(None, maxLength=253, pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    """The metric's name in the custom metrics API. Default sora_http_requests_per_second."""
    target_per_pod: RequestRate | None = None
    """Average requests per second per pod to aim for (a quantity). Default 16, the seed's 1,000
    requests per target per minute."""


class AutoscalingMetrics(Model):
    """What the autoscaler scales on; each target is per pod."""

    cpu_utilization: Int32 | None = field(None, minimum=0, maximum=1000)
    """Average CPU use in percent of the pods' CPU request. Default 70; 0 turns the CPU metric
    off."""
    memory_utilization: Int32 | None = field(None, minimum=0, maximum=1000)
    """Average memory use in percent of the pods' memory request. Default 80; 0 turns the memory
    metric off."""
    requests_per_second: RequestsPerSecond = Field(default_factory=RequestsPerSecond)


class ScalingDirection(Model):
    """One direction of scaling."""

    stabilization_window_seconds: Int32 | None = field(None, minimum=0, maximum=3600)
    """Recommendations over this many seconds are considered before scaling, like the seed's
    cooldowns. Default 300."""


class AutoscalingBehavior(Model):
    """How fast the autoscaler reacts."""

    scale_up: ScalingDirection = Field(default_factory=ScalingDirection)
    scale_down: ScalingDirection = Field(default_factory=ScalingDirection)


# A scaling window (an item of schedules). The two components' windows differ only in the
# descriptions of their bounds; autoscaling.py re-checks the cron fields and the time zone.
class Schedule(Model):
    model_config = cel(
        Rule(
            "self.cron.matches('^(@(yearly|annually|monthly|weekly|daily|hourly)"
            "|[0-9A-Za-z*?/,-]+( +[0-9A-Za-z*?/,-]+){4})$')",
            "schedules[].cron must be a cron expression of five fields (minute hour"
            " day-of-month month day-of-week), such as '0 22 * * *'",
        ),
        Rule(
            "self.minReplicas <= self.maxReplicas",
            "schedules[].minReplicas cannot be more than schedules[].maxReplicas",
        ),
        Rule(
            "self.maxReplicas >= 1",
            "schedules[].maxReplicas must be at least 1: an autoscaler never scales to 0",
        ),
        Rule("self.minReplicas >= 1", "schedules[].minReplicas must be at least 1"),
    )

    name: Annotated[str, Schema(maxLength=63, pattern=DNS_LABEL)]
    """The window's name, shown in the status and Events."""
    cron: Annotated[str, Schema(maxLength=100)]
    """When the window starts, as a five-field cron expression read in timeZone
    (e.g. '0 22 * * *')."""
    time_zone: str | None = field(None, maxLength=64)
    """An IANA time zone such as Asia/Tokyo. Default UTC."""


class FileServerSchedule(Schedule):
    min_replicas: Replicas
    """Fewest file server pods while the window is in force."""
    max_replicas: Replicas
    """Most file server pods while the window is in force."""


class FeedbackApiSchedule(Schedule):
    min_replicas: Replicas
    """Fewest feedback API pods while the window is in force."""
    max_replicas: Replicas
    """Most feedback API pods while the window is in force."""


def autoscaling_bounds(component: str, stopping: str) -> ConfigDict:
    """The CEL rules on an autoscaler's bounds; ``stopping`` says how to stop ``component``."""
    where = f"{component}.autoscaling"
    return cel(
        Rule(
            "!has(self.minReplicas) || !has(self.maxReplicas) ||"
            " self.minReplicas <= self.maxReplicas",
            f"{where}.minReplicas cannot be more than {where}.maxReplicas",
        ),
        Rule(
            "!has(self.maxReplicas) || self.maxReplicas >= 1",
            f"{where}.maxReplicas must be at least 1: an autoscaler never scales to 0 ({stopping})",
        ),
        Rule(
            "!has(self.minReplicas) || self.minReplicas >= 1",
            f"{where}.minReplicas must be at least 1",
        ),
    )


#: Scaling windows are keyed by name: server-side apply merges them window by window.
SCHEDULES_LIST: Final[JsonDict] = {
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["name"],
}


class FileServerAutoscaling(Model):
    """A HorizontalPodAutoscaler (autoscaling/v2) for the file server. While enabled the operator
    stops setting the Deployment's replicas. CPU and memory targets need metrics-server;
    requestsPerSecond needs a custom metrics adapter (see docs/autoscaling.md)."""

    model_config = autoscaling_bounds(
        "fileServer",
        "to stop the file server, disable autoscaling and set fileServer.replicas to 0",
    )

    enabled: bool = True
    """Hand the replica count to a HorizontalPodAutoscaler. On by default, as in the seed; false
    gives the count back to fileServer.replicas."""
    min_replicas: Replicas | None = None
    """Fewest file server pods outside any schedule. Default: 2 in prod, 1 elsewhere (at most
    maxReplicas when only that is set)."""
    max_replicas: Replicas | None = None
    """Most file server pods outside any schedule. Default: 10 in prod, 3 elsewhere (at least
    minReplicas when only that is set)."""
    metrics: AutoscalingMetrics = Field(default_factory=AutoscalingMetrics)
    behavior: AutoscalingBehavior = Field(default_factory=AutoscalingBehavior)
    schedules: tuple[FileServerSchedule, ...] | None = field(None, maxItems=20, **SCHEDULES_LIST)
    """Scaling windows. Each replaces minReplicas and maxReplicas from the moment its cron fires
    until another window's cron fires; the window in force is the one that fired last. Not
    set: in prod the seed's windows (night: '0 22 * * 1-5' UTC, 1 to 5; day: '0 6 * * *' UTC,
    2 to 10), elsewhere none. An empty list: no windows, the bounds above always apply."""


class FeedbackApiAutoscaling(Model):
    """A HorizontalPodAutoscaler (autoscaling/v2) for the feedback API, on PostgreSQL only (the
    same fields and windows as fileServer.autoscaling). While enabled the operator stops
    setting the Deployment's replicas. CPU and memory targets need metrics-server;
    requestsPerSecond needs a custom metrics adapter (see docs/autoscaling.md)."""

    model_config = autoscaling_bounds(
        "feedbackApi",
        "to stop the feedback API, disable autoscaling and set feedbackApi.replicas to 0",
    )

    enabled: bool = False
    """Hand the replica count to a HorizontalPodAutoscaler."""
    min_replicas: Replicas | None = None
    """Fewest feedback API pods outside any schedule. Default: 2 in prod, 1 elsewhere (at most
    maxReplicas when only that is set)."""
    max_replicas: Replicas | None = None
    """Most feedback API pods outside any schedule. Default: 10 in prod, 3 elsewhere (at least
    minReplicas when only that is set)."""
    metrics: AutoscalingMetrics = Field(default_factory=AutoscalingMetrics)
    behavior: AutoscalingBehavior = Field(default_factory=AutoscalingBehavior)
    schedules: tuple[FeedbackApiSchedule, ...] | None = field(None, maxItems=20, **SCHEDULES_LIST)
    """Scaling windows. Each replaces minReplicas and maxReplicas from the moment its cron fires
    until another window's cron fires; the window in force is the one that fired last. Without
    schedules the bounds above always apply."""


# -- spec.fileServer ------------------------------------------------------------------------


class LocalStorage(Model):
    """The directory for type local. Without claimName the pods serve the sample catalog bundled
    with the image."""

    claim_name: ObjectName | None = None
    """An existing PersistentVolumeClaim in this namespace that holds the catalog; mounted
    read-only. With more than one replica it needs an access mode that several nodes can share
    (ReadOnlyMany or ReadWriteMany)."""
    sample: bool | None = None
    """Serve the sample catalog that an init container writes into an emptyDir (demos and
    tests)."""


class S3Storage(Model):
    """The bucket for type s3."""

    bucket: Annotated[
        str, Schema(minLength=3, maxLength=63, pattern=r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
    ]
    """Bucket name (S3_BUCKET)."""
    prefix: str | None = field(
        None, maxLength=512, pattern=r"^([A-Za-z0-9!_.*()-]+/)*[A-Za-z0-9!_.*()-]*/?$"
    )
    """Key prefix inside the bucket, such as catalog/ (S3_PREFIX)."""
    region: str | None = field(None, pattern=r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
    """AWS region of the bucket, such as ap-northeast-1 (AWS_REGION)."""
    endpoint: str | None = field(None, maxLength=2048, pattern=r"^https?://[^\s/]+(/.*)?$")
    """URL of an S3-compatible server instead of AWS (S3_ENDPOINT_URL), for example
    http://minio.storage:9000."""


class Storage(Model):
    """Where the catalog of extensions and layouts is read from."""

    model_config = cel(
        Rule(
            "!has(self.type) || self.type != 's3' || has(self.s3)",
            "fileServer.storage.type s3 requires fileServer.storage.s3.bucket",
        ),
        Rule(
            "!has(self.local) || !has(self.local.claimName) || !has(self.local.sample) ||"
            " !self.local.sample",
            "fileServer.storage.local takes either claimName or sample: true, not both",
        ),
    )

    type: Literal["local", "s3"] = "local"
    """local reads a directory (a volume, or the sample catalog); s3 reads a bucket
    (STORAGE_BACKEND)."""
    local: LocalStorage = Field(default_factory=LocalStorage)
    s3: S3Storage | None = None


class FileServerServiceAccount(Model):
    """The file server's ServiceAccount."""

    annotations: dict[str, str] = field(default_factory=dict, maxProperties=16)
    """Annotations for the ServiceAccount, for example eks.amazonaws.com/role-arn for IAM roles
    for service accounts (IRSA) so the pods can read the S3 bucket without keys."""


class PresignedRedirects(Model):
    """Answer large package downloads with a redirect to a presigned S3 URL instead of streaming
    them through the pods (storage type s3 only)."""

    enabled: bool = False
    """Turn redirects on."""
    min_size: ByteSize = "8Mi"
    """Packages at least this large are redirected (S3_REDIRECT_MIN_BYTES)."""
    ttl_seconds: int = field(300, minimum=1, maximum=604800)
    """How long a presigned URL stays valid (S3_REDIRECT_TTL_SECONDS)."""


class FileServer(Model):
    """The file server (port 3000) that serves extensions and layouts."""

    model_config = cel(
        Rule(
            "!has(self.presignedRedirects) || !has(self.presignedRedirects.enabled) ||"
            " !self.presignedRedirects.enabled || (has(self.storage) && has(self.storage.type)"
            " && self.storage.type == 's3')",
            "fileServer.presignedRedirects needs fileServer.storage.type s3: the redirects point"
            " at presigned S3 URLs",
        ),
    )

    replicas: Replicas | None = None
    """Number of file server pods. Default: 2 in prod, 1 elsewhere. Ignored while
    fileServer.autoscaling is enabled (the HorizontalPodAutoscaler owns the count then)."""
    resources: Resources = Field(default_factory=Resources)
    storage: Storage = default_empty(Storage)
    cache_size: ByteSize = "1Gi"
    """Local disk cache for packages fetched from storage (CACHE_MAX_BYTES). The cache lives in
    an emptyDir limited to a quarter more than this size."""
    allowed_origins: tuple[
        Annotated[str, Schema(maxLength=253, pattern=r"^(\*|https?://[^\s,/]+)$")], ...
    ] = field(default_factory=tuple, maxItems=32, **SET)
    """Origins allowed by CORS (ALLOWED_ORIGINS), such as https://sora.example.com, or * for any
    origin."""
    service_account: FileServerServiceAccount = Field(default_factory=FileServerServiceAccount)
    presigned_redirects: PresignedRedirects = Field(default_factory=PresignedRedirects)
    autoscaling: FileServerAutoscaling = Field(default_factory=FileServerAutoscaling)


# -- spec.feedbackApi -----------------------------------------------------------------------


class SecretKeySelector(Model):
    """The Secret key holding DATABASE_URL
    (postgresql://user:password@host:5432/db?sslmode=verify-full), in this namespace. The
    operator only references it, never reads it."""

    name: ObjectName
    """Secret name."""
    key: str | None = field(None, maxLength=253, pattern=r"^[-._a-zA-Z0-9]+$")
    """Key in the Secret. Default url (set by the operator)."""


class Database(Model):
    """Where feedback is kept: SQLite on a PersistentVolumeClaim holding feedback.db (the
    default), or a PostgreSQL you run (RDS, CloudNativePG) whose URL is in a Secret.
    docs/feedback-api.md says when to choose which."""

    model_config = cel(
        Rule(
            "!has(self.engine) || self.engine != 'postgresql' || has(self.urlSecretRef)",
            "feedbackApi.database.engine postgresql requires database.urlSecretRef (the Secret"
            " holding the postgresql:// URL)",
        ),
        Rule(
            "(has(self.engine) && self.engine == 'postgresql') || !has(self.urlSecretRef)",
            "feedbackApi.database.urlSecretRef is for engine postgresql only",
        ),
        Rule(
            "!has(self.engine) || self.engine != 'postgresql' ||"
            " (!has(self.size) && !has(self.storageClassName))",
            "feedbackApi.database.size and storageClassName are the SQLite volume's: PostgreSQL"
            " has no volume here",
        ),
        # A transition rule (oldSelf): checked on updates only.
        Rule(
            "(has(self.engine) ? self.engine : 'sqlite') =="
            " (has(oldSelf.engine) ? oldSelf.engine : 'sqlite') ||"
            " (has(self.dataCopied) && self.dataCopied)",
            "feedbackApi.database.engine cannot change while the feedback is in the old engine's"
            " database: copy it (sora-feedback-api copy-to-postgres), then set"
            " database.dataCopied true with the new engine",
        ),
    )

    engine: DatabaseEngine = "sqlite"
    """sqlite: one pod, a volume, sora-backup CronJob backups. postgresql: DATABASE_URL from
    urlSecretRef, no volume and no backup CronJob (backups are the database's), several
    replicas allowed."""
    url_secret_ref: SecretKeySelector | None = None
    data_copied: bool = False
    """Set true together with a change of engine, to say the feedback is already in the new
    engine's database (docs/feedback-api.md, "Moving from SQLite to PostgreSQL"). Without it a
    change of engine is refused."""
    size: ByteSize | None = None
    """Requested volume size. Default: 10Gi in prod, 1Gi elsewhere. Can grow later if the
    StorageClass allows expansion; never shrink."""
    storage_class_name: ObjectName | None = None
    """StorageClass of the volume (for example gp3 on EKS). Default: the cluster's default class.
    Cannot change once the volume exists."""
    retain_on_delete: bool = True
    """Keep the volume (and a Secret the operator generated, which holds the key that decrypts
    the comments) when the SoraDeployment is deleted. Set false to delete them with it."""


class FeedbackApi(Model):
    """The feedback API (port 3001). On SQLite (the default) its database is on a
    PersistentVolumeClaim and it runs as a single pod: SQLite has a single writer. On
    PostgreSQL (database.engine) it is stateless: several replicas, a PodDisruptionBudget and
    autoscaling as the file server."""

    model_config = cel(
        Rule(
            "!has(self.replicas) || self.replicas <= 1 || (has(self.database) &&"
            " has(self.database.engine) && self.database.engine == 'postgresql')",
            "feedbackApi.replicas cannot be more than 1 on SQLite: SQLite has a single writer,"
            " and two pods on one database file corrupt it (use database.engine postgresql for"
            " several replicas)",
        ),
        Rule(
            "!has(self.autoscaling) || !has(self.autoscaling.enabled) ||"
            " !self.autoscaling.enabled || (has(self.database) && has(self.database.engine) &&"
            " self.database.engine == 'postgresql')",
            "feedbackApi cannot autoscale on SQLite: it has a single writer, so the feedback API"
            " runs as exactly one pod (use database.engine postgresql)",
        ),
    )

    replicas: Int32 | None = field(None, minimum=0)
    """SQLite: 1 (the default) or 0 to stop the feedback API while keeping its data; never more.
    PostgreSQL: any number (default as the file server: 2 in prod, 1 elsewhere); ignored while
    autoscaling is enabled."""
    autoscaling: FeedbackApiAutoscaling = Field(default_factory=FeedbackApiAutoscaling)
    resources: Resources = Field(default_factory=Resources)
    database: Database = default_empty(Database)
    secret_name: ObjectName | None = None
    """Secret with the keys ENCRYPTION_KEY, IP_SALT and ADMIN_TOKEN. Default: <name>-secrets.
    When it does not exist the operator creates it with strong random values; it never changes
    an existing Secret."""
    existing_secret: ObjectName | None = None
    """A Secret you manage (an ExternalSecret synced from Secrets Manager, for example) with
    ENCRYPTION_KEY, IP_SALT and ADMIN_TOKEN, instead of secretName. The operator checks that
    it exists and has the keys, and never generates keys for it: the keys live outside the
    cluster and survive it (docs/backups.md, "The whole cluster is gone")."""


# -- spec.ingress ---------------------------------------------------------------------------


class Ingress(Model):
    """The Ingress in front of both services, written for the AWS Load Balancer Controller as the
    seed's ALB rules: /api/extensions*, /api/layouts* and /health to the file server,
    /api/feedback*, /api/recommendations* and /api/stats* to the feedback API, anything else
    404 {"error": "Not found"}."""

    model_config = cel(
        Rule(
            "!has(self.certificateArn) || has(self.host)",
            "ingress.certificateArn requires ingress.host: a certificate is issued for a host name",
        ),
    )

    enabled: bool = True
    """Create the Ingress."""
    class_name: ObjectName = ALB_INGRESS_CLASS
    """IngressClass. alb gets the AWS Load Balancer Controller annotations and ALB wildcard
    paths; any other class gets plain Prefix paths."""
    host: str | None = field(
        None,
        maxLength=253,
        pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    )
    """Host name the platform answers on, such as sora.example.com."""
    certificate_arn: str | None = field(
        None,
        maxLength=2048,
        pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$",
    )
    """ACM certificate for HTTPS. When set the ALB listens on 443 with it and redirects HTTP to
    HTTPS. Requires host."""
    annotations: dict[str, str] = field(default_factory=dict, maxProperties=64)
    """Extra Ingress annotations, applied over the operator's own (yours win), for example
    alb.ingress.kubernetes.io/scheme: internal."""
    source_cidrs: tuple[Cidr, ...] = field(default_factory=tuple, maxItems=32, **SET)
    """Where the load balancer's traffic comes from (with target type ip: the subnets of the
    ALB). The NetworkPolicies admit the service ports from these CIDRs and from this
    platform's own pods only. Empty: from any address, which also opens the ports to other
    namespaces."""


# -- spec.backup, spec.restore --------------------------------------------------------------


class BackupServiceAccount(Model):
    """The backup pods' own ServiceAccount."""

    annotations: dict[str, str] = Field(default_factory=dict)
    """For IRSA, eks.amazonaws.com/role-arn with a role that may write the bucket."""


class BackupCredentials(Model):
    """Static credentials instead of IRSA."""

    secret_name: str | None = field(None, maxLength=253)
    """A Secret whose keys become the backup pods' environment (AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY)."""


class Backup(Model):
    """Scheduled backups of the feedback database: a CronJob running `sora-backup create`
    (snapshot, upload, read back) then `sora-backup prune` on the node holding the database
    volume (docs/backups.md)."""

    model_config = cel(
        Rule(
            "!has(self.enabled) || !self.enabled || has(self.bucket)",
            "backup.enabled requires backup.bucket",
        ),
        Rule(
            "!has(self.continuous) || !self.continuous || has(self.bucket)",
            "backup.continuous requires backup.bucket",
        ),
    )

    continuous: bool | None = None
    """Continuous replication: Litestream beside the feedback API (a sidecar in its pod)
    replicates the database to replicaPrefix in the bucket, a recovery point of about a
    second, restorable to any moment within retentionDays (restore.toTime). Default: on in
    prod wherever backups are on, off in dev and staging."""
    replica_prefix: str | None = field(
        None, minLength=2, maxLength=512, pattern=r"^([^/.][^/]*/)+$"
    )
    """Key prefix of the continuous replica, ending in /; must not overlap prefix. Default
    replica/<environment>/."""
    enabled: bool | None = None
    """Run the backup CronJob. Default: on whenever a bucket is set. false with a bucket is an
    explicit choice that BackupHealthy reports as BackupsDisabled (a Warning)."""
    schedule: str = field("0 3 * * *", minLength=9, maxLength=100)
    """Cron schedule in UTC. Default daily at 03:00. BackupHealthy turns False when no backup
    succeeded within twice its interval."""
    retention_days: int | None = field(None, minimum=0, maximum=3650)
    """prune deletes backups older than this (0: by count only). Default 30."""
    keep_copies: int = field(1, minimum=1, maximum=1000)
    """The newest N backups are always kept."""
    bucket: str | None = field(None, minLength=3, maxLength=63)
    """S3 bucket of the backups."""
    prefix: str | None = field(None, maxLength=512, pattern=r"^([^/.][^/]*/)*$")
    """Key prefix ending in /. Default database/<environment>/."""
    region: str | None = field(None, maxLength=64)
    """AWS region of the bucket (default from the SDK)."""
    endpoint: str | None = field(None, maxLength=2048, pattern=r"^https?://")
    """An S3-compatible endpoint URL instead of AWS."""
    storage_class: Literal[
        "STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"
    ] = "STANDARD_IA"
    """S3 storage class of new backups."""
    service_account: BackupServiceAccount = Field(default_factory=BackupServiceAccount)
    credentials: BackupCredentials = Field(default_factory=BackupCredentials)
    starting_deadline_seconds: int = field(600, minimum=10, maximum=86400)
    """A backup not started this long after its time is skipped."""
    active_deadline_seconds: int = field(3600, minimum=10, maximum=86400)
    """A backup or restore Job running longer fails (a stuck backup never runs forever)."""


class Restore(Model):
    """Restore the feedback database from a backup: set a new requestId. The operator scales the
    feedback API to zero, waits until no pod holds the volume, runs `sora-backup restore`,
    scales back, waits until the API is available, and records status.lastRestore. Needs
    backup.bucket. On a new SoraDeployment this starts it from a backup instead of an empty
    database."""

    model_config = cel(
        Rule(
            '!has(self.toTime) || !has(self.from) || self.from == "latest"',
            "restore.toTime restores from the continuous replica; leave out from",
        ),
    )

    from_: Annotated[str, Schema(maxLength=1024)] = Field("latest", alias="from")
    """latest (the newest verified backup), a backup key, or replica (the continuous replica's
    newest state)."""
    # A string, not a datetime: spec.py says what is wrong with a time it cannot use.
    to_time: str | None = field(None, format="date-time")
    """A moment (RFC 3339, e.g. 2026-11-28T09:15:00Z): restore the continuous replica's state
    then. A time before the oldest retained snapshot or in the future fails the restore with
    that reason in lastRestore.message."""
    request_id: str | None = field(None, minLength=1, maxLength=128)
    """Change it to ask for a restore; the same id never runs twice."""


# -- spec.monitoring ------------------------------------------------------------------------


class ServiceMonitors(Model):
    """One ServiceMonitor per service (<name>-file-server, <name>-feedback-api, and <name>-admin
    while the admin panel runs), scraping /metrics on the port named http."""

    model_config = cel(
        Rule(
            "!has(self.scrapeTimeout) || !has(self.interval) ||"
            " duration(self.scrapeTimeout) <= duration(self.interval)",
            "serviceMonitors.scrapeTimeout cannot be longer than serviceMonitors.interval",
        ),
    )

    enabled: bool = False
    """Create the ServiceMonitors."""
    interval: Duration = "30s"
    """How often Prometheus scrapes, for example 30s or 1m."""
    scrape_timeout: Duration = "10s"
    """How long one scrape may take; at most the interval."""


class PrometheusRule(Model):
    """A PrometheusRule <name> with the platform's alerts (the seed's four alarms, backups, the
    feedback volume, unavailable components), scoped to this SoraDeployment's namespace and
    name."""

    enabled: bool = False
    """Create the PrometheusRule."""


class Dashboard(Model):
    """A ConfigMap <name>-dashboard holding the Grafana dashboard, labelled grafana_dashboard:
    "1" for the Grafana sidecar (kube-prometheus-stack). Needs no CRD."""

    enabled: bool = False
    """Create the dashboard ConfigMap."""
    folder: str | None = field(None, maxLength=128)
    """The Grafana folder, as the annotation grafana_folder (the sidecar's folderAnnotation)."""


class Monitoring(Model):
    """What the operator creates for Prometheus and Grafana (docs/observability.md).
    ServiceMonitors and the PrometheusRule need the Prometheus Operator's CRDs
    (monitoring.coreos.com/v1): without them the operator skips those two, says so in
    status.monitoring and in one Event, and stays Ready. The operator's own ServiceMonitor and
    alerts come with the sora-operator chart."""

    log_retention_days: int | None = field(None, minimum=1, maximum=3653)
    """Days the log pipeline keeps this platform's logs; published on the pods as the annotation
    sora.example.com/log-retention-days for Fluent Bit or the CloudWatch agent. Default: 30 in
    prod, 7 elsewhere."""
    labels: dict[str, Annotated[str, Schema(maxLength=63)]] = field(
        default_factory=dict, maxProperties=16
    )
    """Extra labels on the ServiceMonitors and the PrometheusRule, for the Prometheus that
    selects them (kube-prometheus-stack: release: <its release name>)."""
    scrape_namespace: str = field("monitoring", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    """The namespace Prometheus runs in. With serviceMonitors on, the services' NetworkPolicies
    admit its pods (they reach the whole service port: policies cannot tell /metrics from the
    API)."""
    service_monitors: ServiceMonitors = default_empty(ServiceMonitors)
    prometheus_rule: PrometheusRule = default_empty(PrometheusRule)
    dashboard: Dashboard = default_empty(Dashboard)


# -- spec.admin -----------------------------------------------------------------------------


class AdminIngress(Model):
    """The /admin route on the platform's Ingress (only while ingress.enabled)."""

    enabled: bool = True
    """Route /admin* to the panel. false keeps the panel off the load balancer (its NetworkPolicy
    then admits this platform's pods only); reach it with kubectl port-forward
    service/<name>-admin 3002."""
    source_cidrs: tuple[Cidr, ...] = field(default_factory=tuple, maxItems=3, **SET)
    """Client addresses allowed to reach /admin, as a source-ip condition on the ALB rule: other
    clients get the 404 of unknown paths. Needs ingress.className alb. At most 3 (an ALB rule
    holds five values, with its path and host). Empty: anyone who reaches the load balancer."""


class Admin(Model):
    """The admin panel (sora-admin, port 3002): moderation, statistics and the catalog under
    /admin, signed in with the feedback API's ADMIN_TOKEN. Off by default: it can hide and
    delete feedback and its one guard is that token (sign-in has no rate limit), so exposing
    it should be a decision; admin.ingress keeps /admin off the load balancer or to known
    addresses."""

    enabled: bool = False
    """Run the panel: a Deployment, Service, NetworkPolicy and ServiceAccount named <name>-admin,
    and the /admin route. Turning it off deletes them and keeps its Secret."""
    replicas: Int32 = field(1, minimum=0, maximum=10)
    """Number of panel pods. Sessions are signed cookies that any pod can check, so several pods
    need no stickiness; 0 stops the panel."""
    resources: Resources = Field(default_factory=Resources)
    session_secret_name: ObjectName | None = None
    """Secret with the key SESSION_SECRET, which signs the panel's session cookies. Default:
    <name>-admin-secrets. When it does not exist the operator creates it with a strong random
    value; it never changes an existing Secret. ADMIN_TOKEN and IP_SALT come from
    feedbackApi.secretName."""
    ingress: AdminIngress = Field(default_factory=AdminIngress)


# -- spec -----------------------------------------------------------------------------------


class SoraDeploymentSpec(Model):
    """The desired platform. `environment` chooses defaults (replicas, CPU, memory, volume size,
    retention); every other field overrides them."""

    model_config = cel(
        Rule(
            "!has(self.admin) || !has(self.admin.ingress) ||"
            " !has(self.admin.ingress.sourceCidrs) || size(self.admin.ingress.sourceCidrs) == 0"
            " || !has(self.ingress) || !has(self.ingress.className) ||"
            " self.ingress.className == 'alb'",
            "admin.ingress.sourceCidrs needs ingress.className alb: other ingress classes cannot"
            " restrict /admin alone by client address",
        ),
        Rule(
            "!has(self.backup) || !has(self.backup.continuous) || !self.backup.continuous ||"
            " !has(self.feedbackApi) || !has(self.feedbackApi.database) ||"
            " !has(self.feedbackApi.database.engine) ||"
            " self.feedbackApi.database.engine != 'postgresql'",
            "backup.continuous replicates the SQLite database; on PostgreSQL there is no SQLite"
            " file (the database's own point-in-time recovery covers it)",
        ),
    )

    environment: Environment
    """Which environment this platform is, as the seed's var.environment. prod defaults to 2 file
    server replicas and 512m CPU / 1Gi memory per pod, 30 days of log retention and a 10Gi
    database volume; dev and staging to 1 replica, 256m / 512Mi, 7 days and 1Gi. Backups are
    kept 30 days everywhere. Any field below overrides these defaults."""
    image: Image = default_empty(Image)
    file_server: FileServer = default_empty(FileServer)
    feedback_api: FeedbackApi = default_empty(FeedbackApi)
    ingress: Ingress = default_empty(Ingress)
    backup: Backup = Field(default_factory=Backup)
    restore: Restore = Field(default_factory=Restore)
    monitoring: Monitoring = default_empty(Monitoring)
    admin: Admin = Field(default_factory=Admin)


# -- status (written by the operator: status.py builds it; the models give only its schema) --


class NotReady(Model):
    """Why the component is not ready, as the object that blocks it says (a Pending claim, an
    unschedulable pod, an image pull failure, a crash loop, a failing probe). Absent when
    ready or when nothing states a cause yet."""

    reason: str | None = None
    """ClaimPending, ImagePullFailed, ContainerConfigError, CrashLooping, Unschedulable or
    ProbeFailing."""
    message: str | None = None
    """The blocking object, what its controller said, what to check."""


class ComponentStatus(Model):
    """Pod counts of one component, from its Deployment."""

    replicas: Int32 | None = None
    """Pods wanted."""
    ready_replicas: Int32 | None = None
    """Pods that pass their readiness probe."""
    updated_replicas: Int32 | None = None
    """Pods running the current template."""
    ready: str | None = None
    """readyReplicas/replicas, for kubectl get."""
    not_ready: NotReady | None = None


# An item of status.conditions (the shape of metav1.Condition).
class Condition(Model):
    type: str
    """Ready, Progressing or Degraded."""
    status: Literal["True", "False", "Unknown"]
    """Whether the condition holds."""
    observed_generation: Int64 | None = None
    """The generation the condition was computed for."""
    last_transition_time: datetime
    """When status last changed."""
    reason: str
    """A CamelCase word for programs."""
    message: str
    """A sentence for people."""


class Endpoints(Model):
    """Where the platform answers."""

    file_server: str | None = None
    """In-cluster URL of the file server Service."""
    feedback_api: str | None = None
    """In-cluster URL of the feedback API Service."""
    admin: str | None = None
    """In-cluster URL of the admin panel Service (while enabled)."""
    ingress: str | None = None
    """Public URL, once the load balancer has an address."""


class DatabaseStatus(Model):
    """The feedback API's database as the operator last applied it."""

    engine: str | None = None
    """sqlite or postgresql; a change of engine is checked against it."""


class AutoscalingStatus(Model):
    """The file server autoscaler's bounds now (absent while autoscaling is off)."""

    active_window: str | None = None
    """The schedule in force, or empty when the base bounds apply."""
    window_since: datetime | None = None
    """When the active window's cron fired."""
    min_replicas: Int32 | None = None
    """The autoscaler's minReplicas now."""
    max_replicas: Int32 | None = None
    """The autoscaler's maxReplicas now."""


class MonitoringStatus(Model):
    """What spec.monitoring produced."""

    state: Literal["Disabled", "Applied", "Skipped"] | None = None
    """Disabled (nothing asked for), Applied (every object asked for exists) or Skipped (the
    cluster lacks the Prometheus Operator's CRDs; the message names what was skipped)."""
    message: str | None = None


# extra="allow" is x-kubernetes-preserve-unknown-fields: the record has more keys than these.
class LastBackup(Model):
    """The newest finished backup Job: job, time, result (success or failed), key, size, rows,
    verified, pruned, message; and lastSuccessTime, lastFailureTime."""

    model_config = ConfigDict(extra="allow")

    time: datetime | None = None
    """When the last backup finished."""


#: A free-form record (x-kubernetes-preserve-unknown-fields): its keys are in the description.
Record = dict[str, Any]


class SoraDeploymentStatus(Model):
    """What the operator last observed. Written by the operator only."""

    observed_generation: Int64 | None = None
    """The metadata.generation of the spec this status describes."""
    conditions: tuple[Condition, ...] | None = field(
        None, **{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]}
    )
    """Ready (every component serves on its current spec), Progressing (a change is rolling out),
    Degraded (the spec cannot be realised or a component fails; the message says what to do)."""
    file_server: ComponentStatus | None = None
    feedback_api: ComponentStatus | None = None
    admin: ComponentStatus | None = None
    endpoints: Endpoints | None = None
    secret_name: str | None = None
    """The Secret the pods read ENCRYPTION_KEY, IP_SALT and ADMIN_TOKEN from."""
    database: DatabaseStatus | None = None
    autoscaling: AutoscalingStatus | None = None
    monitoring: MonitoringStatus | None = None
    replication: Record | None = None
    """Continuous replication, as the Litestream sidecar last measured it: lagSeconds (how far
    the replica is behind, grown by the age of the measurement), measuredAt, replicaTxid, pod,
    message."""
    restore: Record | None = None
    """A restore under way: requestId, from, phase (ScalingDown, Restoring, ScalingUp), job,
    startedAt, message."""
    last_backup: LastBackup | None = None
    last_restore: Record | None = None
    """The last finished restore: requestId, from, result (restored or failed), time, key,
    message."""


# -- The custom resource --------------------------------------------------------------------


class SoraDeployment(Model):
    """A Sora platform: the file server, the feedback API with its SQLite database on a
    persistent volume, optionally the admin panel, their configuration and secrets, and the
    Ingress in front of them. The sora-operator creates and repairs every object it describes."""

    model_config = cel(
        Rule(
            "self.metadata.name.size() <= 50 &&"
            " self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
            "metadata.name must be a lower-case DNS label of at most 50 characters that starts"
            " with a letter: it prefixes Service names such as <name>-feedback-api",
        ),
    )

    api_version: str | None = None
    """APIVersion of this object (sora.example.com/v1alpha1)."""
    kind: str | None = None
    """Kind of this object (SoraDeployment)."""
    # The API server validates metadata itself; a CRD may only say that it is an object.
    metadata: Annotated[dict[str, Any], WithJsonSchema({"type": "object"})] = Field(
        default_factory=dict
    )
    spec: SoraDeploymentSpec
    status: SoraDeploymentStatus | None = None
