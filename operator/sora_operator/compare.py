"""Does a live object already hold every field the operator wants? (pure)

The comparison is a subset test: a field the operator does not set (a default
the API server filled in, a field another controller owns) never counts as
drift. Lists of objects are matched by their identity (``name``,
``mountPath``, ``port``...), not by position, so an element another party added
does not count either; lists of scalars must be equal. Quantities are compared
by value (``0.5`` equals ``500m``). What a subset test cannot see, a field the
operator stopped setting, is caught by a fingerprint of the whole desired
manifest kept in an annotation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from kubernetes.utils import parse_quantity

from sora_operator.api.v1alpha1 import GROUP

FINGERPRINT_ANNOTATION: Final = f"{GROUP}/desired-fingerprint"
QUANTITY_KEYS: Final = frozenset(
    {"cpu", "memory", "storage", "ephemeral-storage", "sizeLimit", "averageValue"}
)
IDENTITY_KEYS: Final = ("name", "mountPath", "containerPort", "port", "path", "topologyKey", "uid")


def fingerprinted(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest with an annotation holding a digest of everything else in it."""
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:32]
    metadata = dict(manifest["metadata"])
    metadata["annotations"] = {**metadata.get("annotations", {}), FINGERPRINT_ANNOTATION: digest}
    return {**manifest, "metadata": metadata}


def differences(desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """Paths (``spec.replicas``) where ``live`` lacks or contradicts ``desired``."""
    return list(_differences(desired, live, "", None))


def _differences(desired: Any, live: Any, path: str, key: str | None) -> Iterator[str]:
    if isinstance(desired, Mapping):
        yield from _mapping_differences(desired, live, path)
    elif isinstance(desired, list):
        yield from _list_differences(desired, live, path)
    elif not _same_scalar(desired, live, key):
        yield path


def _mapping_differences(desired: Mapping[str, Any], live: Any, path: str) -> Iterator[str]:
    if live is None and not desired:
        return
    if not isinstance(live, Mapping):
        yield path
        return
    for key, value in desired.items():
        yield from _differences(value, live.get(key), _join(path, key), key)


def _list_differences(desired: list[Any], live: Any, path: str) -> Iterator[str]:
    if live is None and not desired:
        return
    if not isinstance(live, list):
        yield path
        return
    if not desired or not all(isinstance(item, Mapping) for item in desired):
        if desired != live:
            yield path
        return
    for index, item in enumerate(desired):
        match = _find_counterpart(item, index, live)
        item_path = f"{path}[{index}]"
        if match is None:
            yield item_path
        else:
            yield from _mapping_differences(item, match, item_path)


def _find_counterpart(item: Mapping[str, Any], index: int, live: Sequence[Any]) -> Any:
    identity = {key: item[key] for key in IDENTITY_KEYS if key in item}
    if not identity:
        return live[index] if index < len(live) else None
    for candidate in live:
        if isinstance(candidate, Mapping) and all(
            candidate.get(key) == value for key, value in identity.items()
        ):
            return candidate
    return None


def _same_scalar(desired: Any, live: Any, key: str | None) -> bool:
    if desired == live:
        return True
    if key in QUANTITY_KEYS and live is not None:
        wanted, actual = _quantity(desired), _quantity(live)
        return wanted is not None and wanted == actual
    return False


def _quantity(value: Any) -> Decimal | None:
    try:
        return Decimal(parse_quantity(value))
    except (ValueError, TypeError, InvalidOperation):
        return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
