"""Ranking formulas: a Bayesian average for quality, exponential decay for trends.

Both are deterministic and depend only on a target's own feedback, so the store
can keep each target's sort keys up to date on every write and answer
"top N" from an index, whatever the number of feedback rows.

Score (``order=score``)
    ``score = (C * m + sum of ratings) / (C + count)`` with a prior of
    ``C = PRIOR_WEIGHT`` pseudo-ratings of ``m = PRIOR_MEAN`` stars. A single
    five-star rating scores 3.33; it takes many good ratings to approach 5.
    The prior is a fixed constant rather than the catalogue-wide mean so that
    feedback on one target never reorders two others.

Trending (``order=trending``)
    ``trending(now) = sum over ratings r at time t of w(r) * 2 ** (-(now - t) / H)``
    where ``w(r) = (r - 1) / 4`` (a one-star rating adds nothing, five stars add
    one) and ``H = TREND_HALF_LIFE_MS``. It reads as "recent positive
    feedback, where a rating counts half after H". Because
    ``2 ** (-(now - t) / H) = 2 ** ((t - E) / H) / 2 ** ((now - E) / H)`` for a
    fixed epoch ``E``, the store keeps ``log2(sum w(r) * 2 ** ((t - E) / H))``
    per target: the common factor does not change the order, and the log
    keeps the numbers finite.
"""

from __future__ import annotations

import math
from typing import Final

PRIOR_MEAN: Final = 3.0
PRIOR_WEIGHT: Final = 5
TREND_HALF_LIFE_MS: Final = 3 * 24 * 3600 * 1000
TREND_EPOCH_MS: Final = 1_577_836_800_000  # 2020-01-01T00:00:00Z
# Removing a contribution that leaves less than this fraction of the total
# leaves only feedback tens of half-lives old: treat the remainder as zero.
_NEGLIGIBLE: Final = 1e-9


def average(count: int, rating_sum: int) -> float | None:
    return rating_sum / count if count else None


def bayesian_average(count: int, rating_sum: int) -> float:
    """The score of a target with ``count`` ratings adding up to ``rating_sum``."""
    return (PRIOR_WEIGHT * PRIOR_MEAN + rating_sum) / (PRIOR_WEIGHT + count)


def trend_weight(rating: int) -> float:
    return (rating - 1) / 4


def trend_point(rating: int, at_ms: int) -> float | None:
    """log2 of one rating's contribution relative to the epoch; None when it adds nothing."""
    weight = trend_weight(rating)
    if weight <= 0:
        return None
    return math.log2(weight) + (at_ms - TREND_EPOCH_MS) / TREND_HALF_LIFE_MS


def log2_add(total: float | None, point: float | None) -> float | None:
    """log2(2**total + 2**point), where None stands for an empty sum."""
    if point is None:
        return total
    if total is None:
        return point
    high, low = max(total, point), min(total, point)
    return high + math.log1p(2.0 ** (low - high)) / math.log(2)


def log2_remove(total: float | None, point: float | None) -> float | None:
    """log2(2**total - 2**point): takes back a contribution added with :func:`log2_add`."""
    if point is None or total is None:
        return total
    remainder = -math.expm1((point - total) * math.log(2)) if point < total else 0.0
    if remainder <= _NEGLIGIBLE:
        return None
    return total + math.log2(remainder)


def trending_now(total: float | None, now_ms: int) -> float:
    """The decayed sum at ``now_ms`` from the stored log2 total."""
    if total is None:
        return 0.0
    return float(2.0 ** (total - (now_ms - TREND_EPOCH_MS) / TREND_HALF_LIFE_MS))
