"""The integration tests' Ready wait: it must not accept an older generation's status.

``.ci/run`` once failed ``test_a_spec_change_rolls_out_the_new_configuration`` with
``'1/1' == '2/2'``: the wait accepted the Ready condition stored for the previous
generation, before the operator had reconciled the new spec.
"""

from __future__ import annotations

from typing import Any

from tests.integration.operator.support import is_ready


def _body(generation: int, observed: int, ready: str = "True") -> dict[str, Any]:
    return {
        "metadata": {"generation": generation},
        "status": {
            "observedGeneration": observed,
            "conditions": [{"type": "Ready", "status": ready, "observedGeneration": observed}],
            "fileServer": {"ready": "1/1"},
        },
    }


def test_ready_for_the_current_generation_is_ready() -> None:
    assert is_ready(_body(generation=2, observed=2))


def test_ready_stored_for_the_previous_generation_is_not_ready() -> None:
    assert not is_ready(_body(generation=2, observed=1))


def test_not_ready_is_not_ready() -> None:
    assert not is_ready(_body(generation=2, observed=2, ready="False"))


def test_no_status_is_not_ready() -> None:
    assert not is_ready({"metadata": {"generation": 1}})
    assert not is_ready(None)
