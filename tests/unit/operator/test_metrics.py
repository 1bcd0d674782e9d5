"""The operator's metrics record results and keep label values bounded."""

from __future__ import annotations

import pytest

from sora_operator.metrics import OperatorMetrics


def _value(metrics: OperatorMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_a_timed_reconcile_counts_its_result_and_duration() -> None:
    metrics = OperatorMetrics()
    with metrics.timed("resync") as result:
        result("converged")
    assert (
        _value(metrics, "sora_operator_reconciles_total", trigger="resync", result="converged") == 1
    )
    assert _value(metrics, "sora_operator_reconcile_duration_seconds_count", trigger="resync") == 1


def test_a_failed_reconcile_counts_as_an_error() -> None:
    metrics = OperatorMetrics()
    with pytest.raises(RuntimeError), metrics.timed("drift"):
        raise RuntimeError("boom")
    assert _value(metrics, "sora_operator_reconciles_total", trigger="drift", result="error") == 1


def test_the_leader_gauge_asks_the_elector_at_scrape_time() -> None:
    metrics = OperatorMetrics()
    leading = [False]
    metrics.track_leadership(lambda: leading[0])
    assert _value(metrics, "sora_operator_leader") == 0
    leading[0] = True
    assert _value(metrics, "sora_operator_leader") == 1


def test_two_operators_in_one_process_do_not_share_metrics() -> None:
    first, second = OperatorMetrics(), OperatorMetrics()
    first.record_write("PATCH", "Deployment")
    assert _value(second, "sora_operator_api_writes_total", verb="PATCH", kind="Deployment") is None
