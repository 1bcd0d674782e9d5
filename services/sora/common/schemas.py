"""Shapes both HTTP services share: the error bodies, and a query string's integers."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

# Up to 19 digits: every value up to 2**63 - 1; the range check does the rest.
_DIGITS: Final = re.compile(r"[0-9]{1,19}")


def _from_digits(value: object) -> object:
    """ASCII digits only: int() would also take "+1", " 1", "1_0" and other scripts' digits."""
    if not isinstance(value, str):
        return value  # built in Python code
    if _DIGITS.fullmatch(value) is None:
        raise PydanticCustomError("integer", "Input should be a whole number")
    return int(value)


# A query string's integer. Put it after the constraints it wraps: pydantic writes the
# constraints given after a BeforeValidator into the JSON Schema as raw keys (ge, le).
FROM_DIGITS: Final = BeforeValidator(_from_digits)


Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class Error(TypedDict):
    error: str


class InvalidInput(TypedDict):
    """Invalid input; ``field`` and ``rule`` say what to fix."""

    error: str
    field: Annotated[str, Field(description="the offending field or parameter")]
    rule: Annotated[str, Field(description="the rule it broke, e.g. range, enum")]
