"""The file server's shapes, written once: the request types validate the path and query
string of every catalog and download request (``resources.py``) and, with the response
types, are the schemas of ``/openapi.json`` (``openapi.py``).

Responses are TypedDicts describing the dicts the catalog renders (and caches as bytes);
the schemathesis tests check the served answers against the generated schema.
"""

from __future__ import annotations

from typing import (
    Annotated,
    Final,
    Literal,
    NotRequired,  # pydantic needs them before 3.12
)

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, with_config
from pydantic.dataclasses import dataclass
from typing_extensions import TypedDict

from sora.common.schemas import FROM_DIGITS, Timestamp
from sora.fileserver.catalog import MAX_NAME_LENGTH, MAX_TAGS, MAX_TEXT_LENGTH
from sora.fileserver.ids import (
    ID_PATTERN,
    MAX_ID_LENGTH,
    MAX_TAG_LENGTH,
    MAX_VERSION_LENGTH,
    TAG_PATTERN,
    VERSION_PATTERN,
    Kind,
)

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100
MAX_OFFSET: Final = 1_000_000
MAX_QUERY_LENGTH: Final = 200
MAX_QUERY_TAGS: Final = 10


def _last(value: object) -> object:
    """Of a repeated parameter, the last value: what Falcon's get_param has always given."""
    return value[-1] if isinstance(value, list) else value


def _listed(value: object) -> object:
    """Falcon gives a parameter that appears once as a string, repeated ones as a list."""
    return [value] if isinstance(value, str) else value


LAST: Final = BeforeValidator(_last)
EntryId = Annotated[str, Field(max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
Tag = Annotated[str, Field(max_length=MAX_TAG_LENGTH, pattern=TAG_PATTERN)]

# --- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryRef:
    id: Annotated[
        EntryId,
        Field(description="Lowercase letters and digits, joined by single '.', '_' or '-'."),
    ]


@dataclass(frozen=True)
class VersionQuery:
    version: (
        Annotated[
            str,
            Field(
                max_length=MAX_VERSION_LENGTH,
                pattern=VERSION_PATTERN,
                description="A SemVer version (MAJOR.MINOR.PATCH[-prerelease]); default: latest.",
            ),
            LAST,
        ]
        | None
    ) = None


@dataclass(frozen=True)
class CatalogQuery:
    q: Annotated[
        str,
        Field(
            max_length=MAX_QUERY_LENGTH,
            description="Case-insensitive text in id, name, description, author or tags.",
        ),
        AfterValidator(str.strip),
        LAST,
    ] = ""
    tag: Annotated[
        tuple[Tag, ...],
        Field(
            max_length=MAX_QUERY_TAGS,
            description="Only entries with every one of these tags (repeat the parameter).",
        ),
        BeforeValidator(_listed),
    ] = ()
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT), FROM_DIGITS, LAST] = DEFAULT_LIMIT
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET), FROM_DIGITS, LAST] = 0


# --- responses --------------------------------------------------------------------------------


@with_config(ConfigDict(extra="forbid"))
class Summary(TypedDict):
    """The latest version's manifest and the list of versions."""

    kind: Kind
    id: EntryId
    version: Annotated[str, Field(max_length=MAX_VERSION_LENGTH)]
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
    description: Annotated[str, Field(max_length=MAX_TEXT_LENGTH)]
    author: Annotated[str, Field(max_length=MAX_NAME_LENGTH)]
    tags: Annotated[list[str], Field(max_length=MAX_TAGS)]
    file: Annotated[str, Field(description="Package file name in the version directory")]
    size: Annotated[int, Field(ge=0, description="Package size in bytes")]
    sha256: Annotated[str, Field(pattern="^[0-9a-f]{64}$")]
    published_at: Timestamp | None
    versions: Annotated[list[str], Field(description="Every listed version, newest first")]


@with_config(ConfigDict(extra="forbid"))
class Manifest(Summary):
    """One version's manifest, the list of versions and where to download the package."""

    download_url: str


@with_config(ConfigDict(extra="forbid"))
class Page(TypedDict):
    items: list[Summary]
    total: Annotated[int, Field(ge=0)]
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)]
    offset: Annotated[int, Field(ge=0)]
    next_offset: int | None


class CatalogCounts(TypedDict):
    extensions: int
    layouts: int


class Health(TypedDict):
    status: Literal["ok", "degraded"]
    storage: Literal["local", "s3"]
    error: NotRequired[str]
    catalog: NotRequired[CatalogCounts]
