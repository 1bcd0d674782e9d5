import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sora.feedback import ranking

DAY_MS = 24 * 3600 * 1000
NOW = ranking.TREND_EPOCH_MS + 2500 * DAY_MS

ratings = st.lists(st.integers(1, 5), min_size=1, max_size=200)


def score(values: list[int]) -> float:
    return ranking.bayesian_average(len(values), sum(values))


def test_score_of_nothing_is_the_prior_mean() -> None:
    assert ranking.bayesian_average(0, 0) == ranking.PRIOR_MEAN


def test_score_follows_the_documented_formula() -> None:
    # (C * m + sum) / (C + n) with C = 5, m = 3
    assert ranking.bayesian_average(1, 5) == pytest.approx(20 / 6)
    assert ranking.bayesian_average(10, 45) == pytest.approx(60 / 15)


def test_a_single_five_star_rating_does_not_beat_many_good_ones() -> None:
    assert score([5]) < score([5, 4] * 20)
    assert score([5, 5]) < score([4] * 30)


@given(ratings)
def test_score_stays_between_the_prior_and_the_average(values: list[int]) -> None:
    mean = sum(values) / len(values)
    low, high = sorted((ranking.PRIOR_MEAN, mean))
    assert low - 1e-9 <= score(values) <= high + 1e-9


@given(ratings, st.integers(1, 5))
def test_one_more_rating_moves_the_score_towards_it(values: list[int], extra: int) -> None:
    before, after = score(values), score([*values, extra])
    if extra > before:
        assert after > before
    elif extra < before:
        assert after < before


def test_one_star_ratings_add_nothing_to_trending() -> None:
    assert ranking.trend_point(1, NOW) is None
    assert ranking.trending_now(ranking.trend_point(5, NOW), NOW) == pytest.approx(1.0)
    assert ranking.trending_now(ranking.trend_point(3, NOW), NOW) == pytest.approx(0.5)


def test_trending_weight_halves_every_half_life() -> None:
    point = ranking.trend_point(5, NOW - ranking.TREND_HALF_LIFE_MS)
    assert ranking.trending_now(point, NOW) == pytest.approx(0.5)
    assert ranking.trending_now(point, NOW + ranking.TREND_HALF_LIFE_MS) == pytest.approx(0.25)


def test_trending_prefers_recent_feedback_over_the_same_amount_of_old() -> None:
    recent = ranking.log2_add(ranking.trend_point(4, NOW), ranking.trend_point(4, NOW - DAY_MS))
    old = ranking.log2_add(
        ranking.trend_point(4, NOW - 20 * DAY_MS), ranking.trend_point(4, NOW - 21 * DAY_MS)
    )
    assert recent is not None
    assert old is not None
    assert recent > old


events = st.lists(
    st.tuples(st.integers(1, 5), st.integers(0, 400 * DAY_MS)), min_size=1, max_size=50
)


@given(events)
def test_stored_log_total_equals_the_direct_decayed_sum(items: list[tuple[int, int]]) -> None:
    total = None
    for rating, age in items:
        total = ranking.log2_add(total, ranking.trend_point(rating, NOW - age))
    direct = sum(
        ranking.trend_weight(rating) * 2 ** (-age / ranking.TREND_HALF_LIFE_MS)
        for rating, age in items
    )
    assert ranking.trending_now(total, NOW) == pytest.approx(direct, rel=1e-9, abs=1e-12)


@given(events, st.data())
def test_removing_a_contribution_undoes_adding_it(
    items: list[tuple[int, int]], data: st.DataObject
) -> None:
    points = [ranking.trend_point(rating, NOW - age) for rating, age in items]
    total = None
    for point in points:
        total = ranking.log2_add(total, point)
    removed = data.draw(st.sampled_from(points))
    rest = list(points)
    rest.remove(removed)
    expected = None
    for point in rest:
        expected = ranking.log2_add(expected, point)
    got = ranking.trending_now(ranking.log2_remove(total, removed), NOW)
    # Removal may cancel to zero what is negligible next to the total (see ranking.py).
    assert math.isclose(got, ranking.trending_now(expected, NOW), rel_tol=1e-6, abs_tol=1e-6)


def test_removing_the_only_contribution_leaves_nothing() -> None:
    point = ranking.trend_point(5, NOW)
    assert ranking.log2_remove(ranking.log2_add(None, point), point) is None
