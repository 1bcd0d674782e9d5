"""The feedback API's shapes, written once: these types validate every request
(``validation.py``) and are the schemas of ``/openapi.json`` (``openapi.py``).

Requests are pydantic dataclasses: the submission body, the target in a path, and one
per query string. Responses are TypedDicts that ``views.py`` builds as plain dicts
(nothing is validated on the way out: mypy checks the views against these types, the
schemathesis tests the served answers against the generated schema).
"""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import date
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, StrictStr, WithJsonSchema
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

from sora.common.schemas import FROM_DIGITS, Timestamp
from sora.feedback.catalog import CatalogState
from sora.feedback.model import FeedbackFilter, Order, Submission, Target, TargetType

MAX_BODY_BYTES: Final = 1024 * 1024
MAX_COMMENT_CHARS: Final = 4000
MAX_ID: Final = 2**63 - 1
# Anchored: pydantic searches rather than matches (its regex engine's $ is the very end).
TARGET_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
CLIENT_VERSION_PATTERN: Final = r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}$"
LOCALE_PATTERN: Final = r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}$"
_DATE_TIME: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?"
)
_EPOCH: Final = date(1970, 1, 1)

# --- field types ------------------------------------------------------------------------------


def _whole_number(value: object) -> object:
    """JSON has one kind of number: 5.0 is the rating 5 (4.5, NaN and true stay refused)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _blank_is_none(value: str) -> str | None:
    return value.strip() or None


def _query_boolean(value: object) -> object:
    """The words true and false only: pydantic's bool would also take yes, on, 1 and more."""
    if value in ("true", "false"):
        return value == "true"
    if isinstance(value, bool):
        return value
    raise PydanticCustomError("boolean", "Input should be true or false")


def _moment(value: object) -> object:
    """An RFC 3339 date-time, or a date (midnight UTC), as Unix milliseconds."""
    match = _DATE_TIME.fullmatch(value) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError(value)
        return _unix_ms(match)
    except ValueError:
        raise PydanticCustomError(
            "datetime", "Input should be an RFC 3339 date-time or a date"
        ) from None


def _unix_ms(match: re.Match[str]) -> int:
    """Integer arithmetic rather than datetime.timestamp(): any year 0001-9999 works."""
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    days = (date(int(year), int(month), int(day)) - _EPOCH).days  # validates the date
    if int(hour or 0) > 23 or int(minute or 0) > 59 or int(second or 0) > 60:
        raise ValueError("time out of range")
    seconds = days * 86400 + int(hour or 0) * 3600 + int(minute or 0) * 60 + int(second or 0)
    millis = int((fraction or ".0")[1:4].ljust(3, "0"))
    if offset and offset.upper() != "Z":
        sign = -1 if offset[0] == "-" else 1
        if int(offset[1:3]) > 23 or int(offset[4:6]) > 59:
            raise ValueError("offset out of range")
        seconds -= sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)
    return seconds * 1000 + millis


TargetId = Annotated[StrictStr, Field(pattern=TARGET_ID_PATTERN)]
Locale = Annotated[StrictStr, Field(pattern=LOCALE_PATTERN)]
Rating = Annotated[StrictInt, Field(ge=1, le=5), BeforeValidator(_whole_number)]
Comment = Annotated[StrictStr, Field(max_length=MAX_COMMENT_CHARS), AfterValidator(_blank_is_none)]
FeedbackId = Annotated[int, Field(ge=1, le=MAX_ID)]
Count = Annotated[int, Field(ge=0)]
Average = Annotated[float | None, Field(ge=1, le=5)]
QueryBoolean = Annotated[bool, BeforeValidator(_query_boolean)]
Kind = Annotated[TargetType | None, Field(description="only extensions or only layouts")]
Moment = Annotated[
    int,
    BeforeValidator(_moment),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
    ),
]
Days = Annotated[
    int,
    Field(ge=1, le=365, description="daily counts for this many days, ending today (UTC)"),
    FROM_DIGITS,
]

# --- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRef:
    """An extension or a layout of the file server's catalog."""

    target_type: TargetType
    target_id: TargetId

    @property
    def target(self) -> Target:
        return Target(self.target_type, self.target_id)


@dataclass(frozen=True)
class FeedbackRef:
    feedback_id: FeedbackId  # checked by the route's int converter (app.py)


@dataclass(frozen=True)
class FeedbackSubmission(TargetRef):
    """One rating per client and target: a newer one replaces the older. Unknown fields
    are ignored, so that older servers accept newer clients."""

    rating: Rating
    comment: Annotated[
        Comment | None, Field(description="stored encrypted; only admins can read it")
    ] = None
    client_version: Annotated[StrictStr, Field(pattern=CLIENT_VERSION_PATTERN)] | None = None
    locale: Locale | None = None

    def submission(self) -> Submission:
        return Submission(self.target, self.rating, self.comment, self.client_version, self.locale)


@dataclass(frozen=True)
class RecommendationsQuery:
    kind: Kind = None
    order: Annotated[
        Order, Field(description="score: Bayesian average; trending: recent positive feedback")
    ] = "score"
    limit: Annotated[int, Field(ge=1, le=100, description="how many items"), FROM_DIGITS] = 10


@dataclass(frozen=True)
class StatsQuery:
    kind: Kind = None
    limit: Annotated[int, Field(ge=1, le=100, description="how many targets"), FROM_DIGITS] = 20
    days: Days = 30


@dataclass(frozen=True)
class TargetStatsQuery:
    days: Days = 30


@dataclass(frozen=True)
class FilterQuery:
    """Admin list and export filters; an absent one means "any"."""

    target_type: TargetType | None = None
    target_id: TargetId | None = None
    rating: Annotated[int, Field(ge=1, le=5), FROM_DIGITS] | None = None
    hidden: Annotated[QueryBoolean | None, Field(description="both when absent")] = None
    has_comment: QueryBoolean | None = None
    locale: Locale | None = None
    since: Annotated[
        Moment | None, Field(description="submitted at or after (a date means midnight UTC)")
    ] = None
    until: Annotated[
        Moment | None, Field(description="submitted before (a date means midnight UTC)")
    ] = None

    @property
    def filters(self) -> FeedbackFilter:
        return FeedbackFilter(**{f.name: getattr(self, f.name) for f in fields(FeedbackFilter)})


@dataclass(frozen=True)
class AdminListQuery(FilterQuery):
    limit: Annotated[int, Field(ge=1, le=200, description="how many items"), FROM_DIGITS] = 50
    cursor: (
        Annotated[
            int,
            Field(ge=1, le=MAX_ID, description="next_cursor from the previous page"),
            FROM_DIGITS,
        ]
        | None
    ) = None


@dataclass(frozen=True)
class ExportQuery(FilterQuery):
    format: Literal["csv", "jsonl"] = "csv"


# --- responses --------------------------------------------------------------------------------


class UnknownTarget(TypedDict):
    """The file server's catalog has no such extension or layout."""

    error: str
    field: Literal["target_id"]
    rule: Literal["catalog"]
    target_type: TargetType
    target_id: str


class RateLimited(TypedDict):
    error: str
    retry_after: int


Histogram = TypedDict(
    "Histogram", {"1": Count, "2": Count, "3": Count, "4": Count, "5": Count}
)  # the number of ratings per star value


class SubmitResult(TypedDict):
    id: FeedbackId
    replaced: Annotated[
        bool, Field(description="true when this replaced the client's earlier rating (same id)")
    ]


class TargetCount(TypedDict):
    target_type: TargetType
    target_id: str
    count: Count
    average: Average
    histogram: Histogram


class RankedTarget(TargetCount):
    score: Annotated[float, Field(description="Bayesian average (docs/feedback-api.md)")]
    trending: Annotated[float, Field(ge=0, description="decayed positive mass")]


class Recommendations(TypedDict):
    order: Order
    kind: TargetType | None
    items: list[RankedTarget]


class Totals(TypedDict):
    count: Count
    average: Average
    histogram: Histogram
    targets: Annotated[Count, Field(description="targets with at least one visible rating")]


class DayCount(TypedDict):
    date: Annotated[str, Field(json_schema_extra={"format": "date"})]
    count: Count
    average: Average


class ByType(TypedDict):
    extension: Totals
    layout: Totals


class Stats(TypedDict):
    totals: Totals
    by_type: ByType
    targets: list[TargetCount]
    days: Days
    daily: list[DayCount]


class TargetStats(RankedTarget):
    days: Days
    daily: list[DayCount]


class AdminFeedback(TypedDict):
    id: FeedbackId
    target_type: TargetType
    target_id: str
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str | None, Field(description="decrypted")]
    comment_unavailable: Annotated[
        bool, Field(description="a comment exists but no configured key opens it")
    ]
    client_version: str | None
    locale: str | None
    hidden: bool
    client: Annotated[str, Field(description="prefix of the salted client hash")]
    created_at: Timestamp
    submitted_at: Timestamp


class AdminFeedbackPage(TypedDict):
    items: list[AdminFeedback]
    next_cursor: Annotated[
        int | None, Field(description="pass as cursor for the next page; null on the last page")
    ]


class Visibility(TypedDict):
    id: FeedbackId
    hidden: bool


class Health(TypedDict):
    status: Literal["ok"]
    catalog: Annotated[
        CatalogState,
        Field(
            description="ok; stale: older than CATALOG_MAX_AGE_SECONDS (submissions get 503); "
            "unavailable: never fetched (submissions and public reads get 503)"
        ),
    ]
