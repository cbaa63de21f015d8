"""Charts for the pages, drawn on the server as SVG: figures in, markup out. No script and
no style attribute (the pages' Content-Security-Policy allows neither): colours and
patterns are presentation attributes, sizes a ``viewBox`` that scales with the page.

Each chart is one image to assistive technology (``role="img"``, named by its ``<title>``,
described by its ``<desc>``) and carries its figures as rows for the data table the
template shows next to it (templates/admin/chart.html). Colour is never the only cue: each
series has a pattern as well as a colour, a legend names them, and every segment has a
``<title>`` with its label and count.

* ``columns``: a stacked column per category (a day), one segment per series.
* ``bars``: a horizontal stacked bar per category (a reason, a country), largest first,
  at most ``limit`` of them (the rest summed as one, "other"), each with its total.

Labels are cleaned first (``clean``): no character XML 1.0 forbids (NUL and the other
controls), no bidirectional override or isolate (a label must not reorder the text around
it), at most ``MAX_LABEL`` characters; then escaped like every other text.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

from markupsafe import Markup, escape

MAX_LABEL = 48
WIDTH = 720
FONT = 12
# Text and marks: at least 4.5:1 on white (so the patterns' white marks stay visible too).
TEXT = "#1a1a1a"
GRID = "#8a8f98"
PALETTE = (
    "#0b4f9c",  # blue 8.3:1
    "#b45309",  # amber 5.0:1
    "#1b6e20",  # green 6.2:1
    "#6d28d9",  # violet 7.1:1
    "#a4161a",  # red 7.4:1
    "#0f766e",  # teal 5.5:1
    "#4a4a4a",  # grey 8.9:1
    "#9d174d",  # plum 7.5:1
)
_PREFIXES = tuple((1000**i, p) for i, p in reversed(list(enumerate("kMGTPEZY", start=1))))
_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
_ID = re.compile(r"[^a-z0-9-]")
# Not in a label: controls (Cc: NUL and the rest XML 1.0 forbids), format characters (Cf:
# the bidi embeddings, overrides, isolates and marks among them), surrogates, private-use
# and unassigned code points (U+FFFE and U+FFFF, which XML forbids too).
_DROPPED = frozenset(("Cc", "Cf", "Cs", "Co", "Cn"))


@dataclass(frozen=True, slots=True)
class Series:
    key: str
    label: str
    colour: str | None = None  # "#rrggbb"; else the palette's, by position


@dataclass(frozen=True, slots=True)
class Texts:
    """The words around the figures, in the page's language (the caller translates)."""

    title: str
    description: str
    category: str  # the table's first column ("Day", "Reason")
    total: str = "Total"
    empty: str = "No data"
    other: str = "Other"  # the categories past ``limit``, summed


class Row(NamedTuple):
    """A category's counts, one per series, and their sum (``_row``): a tuple, since a
    year of days is hundreds of rows a chart."""

    label: str
    values: tuple[int, ...]
    total: int


def _row(label: str, values: tuple[int, ...]) -> Row:
    return Row(label, values, sum(values))


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    description: str
    svg: Markup
    headers: tuple[str, ...]  # the category, each series (and the total when several)
    rows: tuple[Row, ...]  # every category, in the chart's order

    @property
    def empty(self) -> bool:
        return all(row.total == 0 for row in self.rows)

    @property
    def show_total(self) -> bool:
        return len(self.headers) > 2

    @property
    def body(self) -> Markup:
        """The data table's rows (a ``<tr>`` a line), written here rather than
        by a template loop: a year of days in seven columns is 2,600 cells, and a call of
        the template per cell cost 11 ms of the 366-day reports page (bench/portal_pages.py)."""
        cell = '<td class="number-cell">{:,}</td>'.format
        total = self.show_total
        lines = []
        for row in self.rows:
            cells = "".join(map(cell, row.values))
            end = cell(row.total) if total else ""
            lines.append(f'        <tr><th scope="row">{escape(row.label)}</th>{cells}{end}</tr>')
        return Markup("\n".join(lines))  # noqa: S704 - the labels escaped, the rest numbers


def clean(label: object) -> str:
    """A label fit to show: printable, no bidi controls, at most ``MAX_LABEL`` characters."""
    kept = str(label)
    # A printable string has no character of the dropped categories (nor any space but
    # U+0020): the usual label (a day, a reason code) skips the walk by character.
    if not kept.isprintable():
        kept = "".join(c for c in kept if unicodedata.category(c) not in _DROPPED)
    text = " ".join(kept.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "\u2026"


def count_text(n: int) -> str:
    """A count with its thousands grouped (the data table, a bar's end)."""
    return f"{n:,}"


def compact(n: int) -> str:
    """A count for an axis: 950, 1.5k, 20M, 9.2E (SI prefixes, read in any language)."""
    for size, prefix in _PREFIXES:
        if n >= size:
            return _scaled(n, size) + prefix
    return str(n)


def _scaled(n: int, size: int) -> str:
    whole, rest = divmod(n, size)
    if whole >= 100 or rest == 0:
        return str(whole)
    return f"{n / size:.1f}".rstrip("0").rstrip(".")


def ticks(top: int, count: int = 4) -> list[int]:
    """Round steps from 0 to at least ``top`` (1, 2 or 5 times a power of ten), integers
    throughout: a count of 2**63 scales like a count of 9."""
    if top <= 0:
        return [0, 1]
    raw = -(-top // count)  # ceiling
    power = 10 ** (len(str(raw)) - 1)
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [step * i for i in range(-(-top // step) + 1)]


def text_width(text: str, size: float = FONT) -> float:
    """An estimate of the drawn width: wide (Korean, Chinese, Japanese) characters take a
    full em, the others about 0.6."""
    if text.isascii():  # no wide character: the same sum, without a look per character
        return _narrow(len(text), size)
    return sum(size * (1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6) for c in text)


@functools.lru_cache(maxsize=256)
def _narrow(length: int, size: float) -> float:
    return sum(size * 0.6 for _ in range(length))


def fit(text: str, width: float, size: float = FONT) -> str:
    """``text``, shortened with an ellipsis to fit ``width``."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "\u2026", size) > width:
        text = text[:-1]
    return text + "\u2026"


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _chart_id(value: str) -> str:
    return _ID.sub("-", value.lower())[:32] or "chart"


def _colours(series: Sequence[Series]) -> list[str]:
    """A series' own colour, else the palette's next one no series claimed."""
    claimed = [s.colour if s.colour and _COLOUR.match(s.colour) else None for s in series]
    free = iter([c for c in PALETTE if c not in claimed] or PALETTE)
    return [c or next(free, PALETTE[i % len(PALETTE)]) for i, c in enumerate(claimed)]


def _pattern(chart: str, index: int, colour: str) -> str:
    """Series 0 is solid; the others add white marks of their own shape."""
    if index == 0:
        return ""
    marks = (
        '<rect width="3" height="8" fill="#ffffff"/>',  # stripes
        '<circle cx="4" cy="4" r="1.6" fill="#ffffff"/>',  # dots
        '<rect width="8" height="2" fill="#ffffff"/><rect width="2" height="8" fill="#ffffff"/>',
    )[(index - 1) % 3]
    turn = (45, 0, 0, 90, -45, 30, 0)[(index - 1) % 7]
    return (
        f'<pattern id="{chart}-p{index}" width="8" height="8" patternUnits="userSpaceOnUse"'
        f' patternTransform="rotate({turn})"><rect width="8" height="8" fill="{colour}"/>'
        f"{marks}</pattern>"
    )


def _fill(chart: str, index: int, colour: str) -> str:
    return colour if index == 0 else f"url(#{chart}-p{index})"


class _Svg:
    """An SVG document being written: every text goes through ``text``/``attr``."""

    def __init__(self, chart: str, texts: Texts, series: Sequence[Series]) -> None:
        self.id = chart
        self.parts: list[str] = []
        self.colours = _colours(series)
        self.fills = [_fill(chart, i, c) for i, c in enumerate(self.colours)]
        self.series = series
        self.texts = texts

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def text(self, x: float, y: float, value: str, anchor: str = "start", size: int = FONT) -> None:
        self.add(
            f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}"'
            f' fill="{TEXT}">{escape(value)}</text>'
        )

    def rect(self, x: float, y: float, w: float, h: float, index: int, tip: str) -> None:
        self.segment(_num(x), y, _num(w), h, index, tip)

    def segment(self, x: str, y: float, w: str, h: float, index: int, tip: str) -> None:
        """A bar's segment, ``x`` and ``w`` written already (a column's segments share
        them: a year of days is thousands of segments)."""
        self.parts.append(
            f'<rect class="bar" x="{x}" y="{_num(y)}" width="{w}" height="{_num(h)}"'
            f' fill="{self.fills[index]}" stroke="#ffffff" stroke-width="0.5">'
            f"<title>{escape(tip)}</title></rect>"
        )

    def legend(self, top: float) -> float:
        """The series' swatches and names, in rows that wrap; the height they take."""
        if len(self.series) < 2:
            return 0
        x, y = 8.0, top
        for i, s in enumerate(self.series):
            label = fit(s.label, WIDTH / 2)
            width = 18 + text_width(label) + 18
            if x + width > WIDTH - 8 and x > 8:
                x, y = 8.0, y + 20
            fill = _fill(self.id, i, self.colours[i])
            self.add(
                f'<rect x="{_num(x)}" y="{_num(y)}" width="14" height="14" fill="{fill}"'
                f' stroke="{TEXT}" stroke-width="0.5"/>'
            )
            self.text(x + 18, y + 11.5, label)
            x += width
        return y + 20 - top

    def done(self, height: float) -> Markup:
        t = self.texts
        defs = "".join(_pattern(self.id, i, c) for i, c in enumerate(self.colours))
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{self.id}-chart"'
            f' viewBox="0 0 {WIDTH} {_num(height)}" width="100%" role="img"'
            f' aria-labelledby="{self.id}-title {self.id}-desc" font-size="{FONT}">'
            f'<title id="{self.id}-title">{escape(t.title)}</title>'
            f'<desc id="{self.id}-desc">{escape(t.description)}</desc>'
            + (f"<defs>{defs}</defs>" if defs else "")
        )
        return Markup(head + "".join(self.parts) + "</svg>")  # noqa: S704 - all escaped


def _prepare(
    texts: Texts, series: Sequence[Series], rows: Sequence[tuple[str, Sequence[int]]]
) -> tuple[Texts, list[Series], list[Row]]:
    texts = Texts(**{f.name: clean(getattr(texts, f.name)) for f in fields(Texts)})
    kept = [Series(s.key, clean(s.label), s.colour) for s in series] or [Series("", "")]
    width = len(kept)
    padding = (0,) * width
    cleaned = []
    for label, values in rows:
        counts = tuple(map(int, values))  # a row's values, as many as series (0 if missing)
        if len(counts) != width:
            counts = (counts + padding)[:width]
        if counts and min(counts) < 0:
            counts = tuple(max(0, v) for v in counts)
        cleaned.append(_row(clean(label), counts))
    return texts, kept, cleaned


def _headers(texts: Texts, series: Sequence[Series]) -> tuple[str, ...]:
    names = tuple(s.label for s in series)
    return (texts.category, *names, texts.total) if len(series) > 1 else (texts.category, *names)


def _tip(row: Row, series: Sequence[Series], index: int) -> str:
    name = series[index].label
    return (
        f"{row.label}, {name}: {count_text(row.values[index])}"
        if name
        else (f"{row.label}: {count_text(row.values[index])}")
    )


def columns(
    chart_id: str,
    texts: Texts,
    series: Sequence[Series],
    rows: Sequence[tuple[str, Sequence[int]]],
    height: int = 220,
) -> Chart:
    """Stacked columns, one per row (its label under it when there is room), in order."""
    texts, kept, cleaned = _prepare(texts, series, rows)
    chart = _chart_id(chart_id)
    svg = _Svg(chart, texts, kept)
    scale = ticks(max((r.total for r in cleaned), default=0))
    top_value = scale[-1]
    left = max(text_width(compact(v)) for v in scale) + 14
    plot_top, plot_bottom, right = 10.0, 10.0 + height, WIDTH - 8.0
    plot_w = right - left
    for v in scale:  # the grid, with its labels
        y = plot_bottom - v / top_value * height
        svg.add(
            f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(right)}" y2="{_num(y)}"'
            f' stroke="{GRID}" stroke-width="{1 if v == 0 else 0.5}"/>'
        )
        svg.text(left - 6, y + 4, compact(v), "end")
    n = max(1, len(cleaned))
    pitch = plot_w / n
    bar = max(pitch * 0.8, min(pitch, 0.5))
    longest = max((text_width(r.label) for r in cleaned), default=0) + 10
    every = max(1, math.ceil(longest / pitch))
    width = _num(bar)
    for i, row in enumerate(cleaned):
        x = left + i * pitch + (pitch - bar) / 2
        at = _num(x)
        base = plot_bottom
        for k, value in enumerate(row.values):
            if value <= 0:
                continue
            h = max(value / top_value * height, 0.5)  # a count is never invisible
            svg.segment(at, base - h, width, h, k, _tip(row, kept, k))
            base -= h
        if i % every == 0:  # kept inside the picture at both ends
            half = text_width(row.label) / 2
            middle = min(max(x + bar / 2, half + 1), WIDTH - half - 1)
            svg.text(middle, plot_bottom + 16, row.label, "middle")
    if all(r.total == 0 for r in cleaned):
        svg.text(left + plot_w / 2, plot_top + height / 2, texts.empty, "middle", FONT + 2)
    legend = svg.legend(plot_bottom + 30)
    total_height = plot_bottom + 30 + legend + 4
    return Chart(
        chart,
        texts.title,
        texts.description,
        svg.done(total_height),
        _headers(texts, kept),
        tuple(cleaned),
    )


def bars(
    chart_id: str,
    texts: Texts,
    series: Sequence[Series],
    rows: Sequence[tuple[str, Sequence[int]]],
    limit: int = 20,
) -> Chart:
    """Horizontal stacked bars, largest total first; past ``limit``, one bar "other"."""
    texts, kept, cleaned = _prepare(texts, series, rows)
    cleaned.sort(key=lambda r: -r.total)
    if len(cleaned) > limit:
        rest = cleaned[limit - 1 :]
        summed = tuple(sum(r.values[k] for r in rest) for k in range(len(kept)))
        cleaned = [*cleaned[: limit - 1], _row(texts.other, summed)]
    chart = _chart_id(chart_id)
    svg = _Svg(chart, texts, kept)
    top_value = max((r.total for r in cleaned), default=0)
    label_w = min(max((text_width(r.label) for r in cleaned), default=0), WIDTH * 0.35) + 12
    value_w = max((text_width(count_text(r.total)) for r in cleaned), default=0) + 12
    left, right = label_w, WIDTH - 8 - value_w
    pitch, bar_h, y = 24.0, 16.0, 8.0
    for row in cleaned:
        svg.text(left - 8, y + 12.5, fit(row.label, label_w - 12), "end")
        x = left
        for k, value in enumerate(row.values):
            if value <= 0 or top_value <= 0:
                continue
            w = max(value / top_value * (right - left), 1.0)  # a count is never invisible
            svg.rect(x, y, w, bar_h, k, _tip(row, kept, k))
            x += w
        svg.text(x + 6, y + 12.5, count_text(row.total))
        y += pitch
    if not cleaned or top_value == 0:
        svg.text(WIDTH / 2, y + 16, texts.empty, "middle", FONT + 2)
        y += 28
    svg.add(f'<line x1="{_num(left)}" y1="4" x2="{_num(left)}" y2="{_num(y)}" stroke="{GRID}"/>')
    legend = svg.legend(y + 8)
    return Chart(
        chart,
        texts.title,
        texts.description,
        svg.done(y + 8 + legend + 4),
        _headers(texts, kept),
        tuple(cleaned),
    )
