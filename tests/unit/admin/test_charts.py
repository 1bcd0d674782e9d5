"""The SVG charts: well-formed, proportional, labelled, escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sora.admin import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def bars(svg: ET.Element) -> list[ET.Element]:
    return [rect for rect in svg.iter(f"{SVG}rect") if "chart-bar" in rect.get("class", "")]


def texts(svg: ET.Element) -> list[str]:
    return [text.text or "" for text in svg.iter(f"{SVG}text")]


def test_histogram_has_one_bar_per_star_with_heights_in_proportion() -> None:
    svg = parse(charts.rating_histogram([1, 0, 2, 4, 8]))
    heights = [float(bar.get("height", "0")) for bar in bars(svg)]
    assert len(heights) == 5
    assert heights[1] == 0
    assert heights[4] == pytest.approx(2 * heights[3], rel=0.01)
    assert heights[3] == pytest.approx(2 * heights[2], rel=0.01)
    assert [text for text in texts(svg) if text.endswith("\u2605")] == [
        "1\u2605",
        "2\u2605",
        "3\u2605",
        "4\u2605",
        "5\u2605",
    ]


def test_histogram_bars_tell_count_and_share_on_hover() -> None:
    svg = parse(charts.rating_histogram([0, 0, 1, 0, 3]))
    titles = [bar.findtext(f"{SVG}title") for bar in bars(svg)]
    assert titles[4] == "5 stars: 3 (75%)"
    assert titles[0] == "1 star: 0 (0%)"


def test_histogram_needs_five_counts() -> None:
    with pytest.raises(ValueError, match="five"):
        charts.rating_histogram([1, 2, 3])


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.rating_histogram([0, 0, 0, 0, 0]),
        lambda: charts.daily_volume([charts.Day("2024-05-01", 0), charts.Day("2024-05-02", 0)]),
        lambda: charts.top_targets([]),
    ],
)
def test_charts_without_data_say_so(draw: object) -> None:
    svg = parse(draw())  # type: ignore[operator]
    assert bars(svg) == []
    assert "No feedback in this period" in texts(svg)


def test_daily_volume_has_a_bar_per_day_and_a_few_date_labels() -> None:
    days = [charts.Day(f"2024-05-{day:02d}", day % 4, 4.0) for day in range(1, 31)]
    svg = parse(charts.daily_volume(days))
    assert len(bars(svg)) == 30
    labels = [text for text in texts(svg) if text.startswith("05-")]
    assert labels[0] == "05-01"
    assert labels[-1] == "05-30"
    assert 3 <= len(labels) <= 8
    assert bars(svg)[2].findtext(f"{SVG}title") == "2024-05-03: 3, average 4.00\u2605"


def test_top_targets_bars_scale_with_counts() -> None:
    svg = parse(charts.top_targets([charts.Target("a", 10, 4.5), charts.Target("b", 5, None)]))
    first, second = (float(bar.get("width", "0")) for bar in bars(svg))
    assert first == pytest.approx(2 * second, rel=0.01)
    assert "10 \u00b7 4.50\u2605" in texts(svg)
    assert "5" in texts(svg)


def test_labels_are_escaped() -> None:
    label = '<script>alert("x")</script>&'
    markup = str(charts.top_targets([charts.Target(label, 3)]))
    assert "<script>" not in markup
    svg = parse(markup)  # still well-formed XML
    assert label in texts(svg)


def test_long_labels_are_shortened() -> None:
    svg = parse(charts.top_targets([charts.Target("x" * 80, 1)]))
    label = next(text for text in texts(svg) if text.startswith("x"))
    assert len(label) == 30
    assert label.endswith("\u2026")


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (7, [0, 2, 4, 6, 8]),
        (100, [0, 50, 100]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_gridlines_fall_on_round_numbers(maximum: int, ticks: list[int]) -> None:
    assert charts.nice_ticks(maximum) == ticks
