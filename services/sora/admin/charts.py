"""Charts as inline SVG, drawn on the server. Pure functions: numbers in, markup out.

Nothing is fetched by the browser and no script runs: colours come from
classes styled by ``static/admin.css`` (the Content-Security-Policy forbids
inline styles), and each bar carries a ``<title>`` the browser shows on hover.
Every label is escaped, since target ids and dates come from the APIs.
The output is well-formed XML, so tests can parse it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape

WIDTH: Final = 640
HISTOGRAM_WIDTH: Final = 400
TARGETS_WIDTH: Final = 960
HEIGHT: Final = 220
ROW_HEIGHT: Final = 28
_TOP: Final = 20
_BOTTOM: Final = 28
_LEFT: Final = 44
_RIGHT: Final = 12
_MAX_LABEL_CHARS: Final = 30
_MAX_X_LABELS: Final = 7


@dataclass(frozen=True)
class Day:
    date: str  # YYYY-MM-DD
    count: int
    average: float | None = None


@dataclass(frozen=True)
class Target:
    label: str
    count: int
    average: float | None = None


def nice_ticks(maximum: int, steps: int = 4) -> list[int]:
    """Gridline values from 0 to at least ``maximum``, on steps of 1, 2 or 5 x 10^n."""
    rough = max(1.0, maximum / steps)
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(int(m * magnitude) for m in (1, 2, 5, 10) if m * magnitude >= rough)
    top = max(step, math.ceil(maximum / step) * step)
    return list(range(0, top + 1, step))


def rating_histogram(counts: Sequence[int], *, title: str = "Ratings") -> Markup:
    """Five vertical bars, one per star, with the count above each."""
    if len(counts) != 5:
        raise ValueError("a rating histogram has five counts")
    total = sum(counts)
    parts = [_open(HISTOGRAM_WIDTH, HEIGHT, f"{title}: {total:,} ratings")]
    if total == 0:
        parts.append(_empty(HISTOGRAM_WIDTH, HEIGHT))
        return _close(parts)
    ticks = nice_ticks(max(counts))
    plot = _Plot(HISTOGRAM_WIDTH, HEIGHT, ticks[-1])
    parts.extend(plot.grid(ticks))
    slot = plot.width / 5
    for star, count in enumerate(counts, start=1):
        x = plot.left + slot * (star - 1) + slot * 0.15
        share = count / total
        parts.append(
            plot.bar(
                x,
                slot * 0.7,
                count,
                f"star-{star}",
                f"{star} star{'s' if star > 1 else ''}: {count:,} ({share:.0%})",
            )
        )
        parts.append(_text(x + slot * 0.35, plot.y(count) - 5, f"{count:,}", "chart-value"))
        parts.append(_text(x + slot * 0.35, plot.bottom + 18, f"{star}\u2605", "chart-label"))
    return _close(parts)


def daily_volume(days: Sequence[Day], *, title: str = "Feedback per day") -> Markup:
    """One bar per day (oldest first), a handful of date labels underneath."""
    total = sum(day.count for day in days)
    parts = [_open(WIDTH, HEIGHT, f"{title}: {total:,} in {len(days)} days")]
    if total == 0:
        parts.append(_empty(WIDTH, HEIGHT))
        return _close(parts)
    ticks = nice_ticks(max(day.count for day in days))
    plot = _Plot(WIDTH, HEIGHT, ticks[-1])
    parts.extend(plot.grid(ticks))
    slot = plot.width / len(days)
    gap = min(2.0, slot * 0.2)
    labelled = _labelled(len(days))
    for index, day in enumerate(days):
        x = plot.left + slot * index
        average = "" if day.average is None else f", average {day.average:.2f}\u2605"
        title = f"{day.date}: {day.count:,}{average}"
        parts.append(plot.bar(x + gap / 2, slot - gap, day.count, "volume", title))
        if index in labelled:
            parts.append(_text(x + slot / 2, plot.bottom + 18, day.date[5:], "chart-label"))
    return _close(parts)


def top_targets(targets: Sequence[Target], *, title: str = "Most rated") -> Markup:
    """Horizontal bars, longest first as given, each with its count and average."""
    height = _TOP + ROW_HEIGHT * max(1, len(targets)) + 8
    parts = [_open(TARGETS_WIDTH, height, f"{title}: {len(targets)} targets")]
    if not targets:
        parts.append(_empty(TARGETS_WIDTH, height))
        return _close(parts)
    label_width = 260
    bar_room = TARGETS_WIDTH - label_width - 130
    largest = max(1, *(target.count for target in targets))
    for row, target in enumerate(targets):
        y = _TOP + ROW_HEIGHT * row
        length = max(1.0, bar_room * target.count / largest) if target.count else 0.0
        average = "" if target.average is None else f" \u00b7 {target.average:.2f}\u2605"
        parts.append(
            _text(label_width - 8, y + 15, _shorten(target.label), "chart-label", anchor="end")
        )
        parts.append(
            f'<rect class="chart-bar target" x="{label_width}" y="{y + 3}" '
            f'width="{length:.1f}" height="{ROW_HEIGHT - 10}">'
            f"<title>{escape(target.label)}: {target.count:,}{escape(average)}</title></rect>"
        )
        parts.append(
            _text(
                label_width + length + 6,
                y + 15,
                f"{target.count:,}{average}",
                "chart-value",
                anchor="start",
            )
        )
    return _close(parts)


def _labelled(count: int) -> set[int]:
    """Which bars get a date: evenly spaced, plus the last one when it has room."""
    every = max(1, math.ceil(count / _MAX_X_LABELS))
    indices = set(range(0, count, every))
    if count and count - 1 - max(indices) > every / 2:
        indices.add(count - 1)
    return indices


class _Plot:
    """The drawing area of a vertical bar chart and its value-to-pixel scale."""

    def __init__(self, width: int, height: int, top_value: int) -> None:
        self.left = _LEFT
        self.width = width - _LEFT - _RIGHT
        self.bottom = height - _BOTTOM
        self._height = self.bottom - _TOP
        self._top_value = max(1, top_value)

    def y(self, value: int) -> float:
        return self.bottom - self._height * value / self._top_value

    def grid(self, ticks: Sequence[int]) -> list[str]:
        lines = []
        for tick in ticks:
            y = self.y(tick)
            lines.append(
                f'<line class="chart-grid" x1="{self.left}" y1="{y:.1f}" '
                f'x2="{self.left + self.width}" y2="{y:.1f}"/>'
            )
            lines.append(_text(self.left - 6, y + 4, f"{tick:,}", "chart-axis", anchor="end"))
        return lines

    def bar(self, x: float, width: float, value: int, kind: str, title: str) -> str:
        top = self.y(value)
        return (
            f'<rect class="chart-bar {kind}" x="{x:.1f}" y="{top:.1f}" '
            f'width="{max(width, 0.5):.1f}" height="{self.bottom - top:.1f}">'
            f"<title>{escape(title)}</title></rect>"
        )


def _open(width: int, height: int, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
    )


def _close(parts: list[str]) -> Markup:
    return Markup("".join([*parts, "</svg>"]))  # noqa: S704 - every piece is escaped above


def _empty(width: int, height: int) -> str:
    return _text(width / 2, height / 2, "No feedback in this period", "chart-empty")


def _text(x: float, y: float, text: str, kind: str, *, anchor: str = "middle") -> str:
    return (
        f'<text class="{kind}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def _shorten(label: str) -> str:
    return label if len(label) <= _MAX_LABEL_CHARS else label[: _MAX_LABEL_CHARS - 1] + "\u2026"
