"""The pages' charts (interfaces/web/charts.py): well-formed SVG that names and describes
itself, hostile labels made harmless, and scales that hold from no data to 2**63."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from twostep.interfaces.web import charts
from twostep.interfaces.web.charts import Series, Texts

NS = {"svg": "http://www.w3.org/2000/svg"}
TEXTS = Texts("Sign-ins per day", "Sign-ins by result", "Day", empty="Nothing yet")
RESULTS = [
    Series("accept", "Accepted", "#1b6e20"),
    Series("reject", "Rejected", "#a4161a"),
    Series("challenge", "Challenged"),
]
HOSTILE = '<script>alert("x")</script>\u202eevil\x00&amp;\u2066x\ufffe'


def parse(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))  # noqa: S314 - our own markup, parsed to check it


def days(count: int) -> list[str]:
    first = dt.date(2026, 1, 1)
    return [(first + dt.timedelta(days=i)).isoformat() for i in range(count)]


def bars_of(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "bar"]


def height(rect: ET.Element) -> float:
    return float(rect.get("height", "0"))


def test_a_column_chart_is_an_image_named_and_described_with_a_segment_per_count() -> None:
    chart = charts.columns("by-result", TEXTS, RESULTS, [("2026-01-01", [3, 1, 0])])
    root = parse(chart)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "by-result-title by-result-desc"
    assert root.find("svg:title", NS) is not None
    assert root.find("svg:title", NS).text == "Sign-ins per day"  # type: ignore[union-attr]
    assert root.find("svg:desc", NS).text == "Sign-ins by result"  # type: ignore[union-attr]
    tips = [b.find("svg:title", NS).text for b in bars_of(root)]  # type: ignore[union-attr]
    assert tips == ["2026-01-01, Accepted: 3", "2026-01-01, Rejected: 1"]
    assert chart.headers == ("Day", "Accepted", "Rejected", "Challenged", "Total")
    assert [(r.label, r.values, r.total) for r in chart.rows] == [("2026-01-01", (3, 1, 0), 4)]


def test_segments_are_as_tall_as_their_counts_and_stack_on_one_another() -> None:
    chart = charts.columns("c", TEXTS, RESULTS, [("a", [30, 10, 0]), ("b", [10, 0, 0])])
    accepted_a, rejected_a, accepted_b = bars_of(parse(chart))
    assert height(accepted_a) == pytest.approx(3 * height(rejected_a))
    assert height(accepted_a) == pytest.approx(3 * height(accepted_b))
    bottom = float(rejected_a.get("y", "0")) + height(rejected_a)
    assert bottom == pytest.approx(float(accepted_a.get("y", "0")))


def test_colour_is_not_the_only_cue_each_series_has_a_pattern_and_a_legend() -> None:
    root = parse(charts.columns("c", TEXTS, RESULTS, [("a", [1, 1, 1])]))
    fills = [b.get("fill") for b in bars_of(root)]
    assert fills == ["#1b6e20", "url(#c-p1)", "url(#c-p2)"]
    patterns = {p.get("id") for p in root.iter("{http://www.w3.org/2000/svg}pattern")}
    assert patterns == {"c-p1", "c-p2"}
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"Accepted", "Rejected", "Challenged"} <= set(texts)
    # A series without a colour takes one no other series claimed.
    assert charts._colours(RESULTS)[2] not in ("#1b6e20", "#a4161a")


@pytest.mark.parametrize("make", [charts.columns, charts.bars])
def test_a_hostile_label_is_text_without_controls_or_bidi_overrides(make: object) -> None:
    series = [Series("x", HOSTILE)]
    texts = Texts(HOSTILE, HOSTILE, HOSTILE)
    chart = make("c", texts, series, [(HOSTILE, [5])])  # type: ignore[operator]
    markup = str(chart.svg)
    assert "<script" not in markup
    for forbidden in ("\x00", "\u202e", "\u2066", "\ufffe"):
        assert forbidden not in markup
        assert all(forbidden not in h for h in chart.headers)
        assert all(forbidden not in r.label for r in chart.rows)
    root = parse(chart)
    shown = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    expected = '<script>alert("x")</script>evil&amp;x'
    # Whole, or cut to fit its column with an ellipsis (a bar chart's labels).
    assert any(
        s == expected or (s.endswith("\u2026") and expected.startswith(s[:-1])) for s in shown
    )
    assert root.find("svg:title", NS).text == expected  # type: ignore[union-attr]
    assert chart.rows[0].label == expected


def test_a_long_label_is_cut_with_an_ellipsis() -> None:
    cleaned = charts.clean("x" * 200)
    assert len(cleaned) == charts.MAX_LABEL
    assert cleaned.endswith("\u2026")


def test_a_chart_id_is_made_safe_for_the_svg_ids() -> None:
    chart = charts.columns('a"b <c>', TEXTS, RESULTS, [])
    assert chart.id == "a-b--c-"
    parse(chart)


@pytest.mark.parametrize("rows", [[], [("2026-01-01", [0, 0, 0])]])
def test_empty_data_says_so_and_draws_no_bar(rows: list[tuple[str, list[int]]]) -> None:
    chart = charts.columns("c", TEXTS, RESULTS, rows)
    root = parse(chart)
    assert bars_of(root) == []
    assert "Nothing yet" in [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert chart.empty
    bar_chart = charts.bars("b", TEXTS, [Series("n", "Denials")], [])
    assert bars_of(parse(bar_chart)) == []
    assert bar_chart.empty


def test_one_day_is_one_column_with_its_label() -> None:
    root = parse(charts.columns("c", TEXTS, RESULTS, [("2026-01-01", [7, 0, 0])]))
    (bar,) = bars_of(root)
    assert "2026-01-01" in [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert float(bar.get("x", "-1")) >= 0
    assert float(bar.get("x", "0")) + float(bar.get("width", "0")) <= charts.WIDTH


def test_366_days_fit_with_their_labels_thinned_out() -> None:
    rows = [(d, [i % 7, 1, 0]) for i, d in enumerate(days(366))]
    chart = charts.columns("c", TEXTS, RESULTS, rows)
    root = parse(chart)
    found = bars_of(root)
    assert len(found) == sum(1 for i in range(366) if i % 7) + 366
    assert all(float(b.get("width", "0")) > 0 for b in found)
    xs = [float(b.get("x", "0")) for b in found]
    assert min(xs) >= 0 and max(xs) <= charts.WIDTH
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text in days(366)]
    assert 3 <= len(labels) <= 20
    assert len(chart.rows) == 366


def test_huge_counts_scale_like_small_ones() -> None:
    huge = 2**63
    chart = charts.columns("c", TEXTS, RESULTS, [("a", [huge, huge, 0]), ("b", [huge, 0, 0])])
    root = parse(chart)
    heights = [height(b) for b in bars_of(root)]
    assert heights[0] == pytest.approx(heights[1]) == pytest.approx(heights[2])
    assert max(heights) <= 220
    assert chart.rows[0].total == 2 * huge
    ticks = charts.ticks(2 * huge)
    assert ticks[-1] >= 2 * huge and len(ticks) <= 6
    assert all(isinstance(t, int) for t in ticks)
    shown = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "20E" in shown  # the axis: SI prefixes, not twenty-digit numbers
    bar_chart = charts.bars("b", TEXTS, [Series("n", "n")], [("x", [huge]), ("y", [1])])
    widths = [float(b.get("width", "0")) for b in bars_of(parse(bar_chart))]
    assert widths[0] <= charts.WIDTH and widths[1] >= 1  # a count of 1 is still seen
    assert "9,223,372,036,854,775,808" in str(bar_chart.svg)


def test_bars_come_largest_first_and_past_the_limit_are_summed_as_other() -> None:
    rows = [(f"r{i}", [i]) for i in range(1, 8)]
    chart = charts.bars("b", Texts("t", "d", "Reason", other="Others"), [Series("n", "n")], rows, 4)
    assert [(r.label, r.total) for r in chart.rows] == [
        ("r7", 7),
        ("r6", 6),
        ("r5", 5),
        ("Others", 1 + 2 + 3 + 4),
    ]
    assert chart.headers == ("Reason", "n")  # one series: no total column
    assert not chart.show_total


@pytest.mark.parametrize(
    ("n", "shown"),
    [(0, "0"), (950, "950"), (1500, "1.5k"), (20_000_000, "20M"), (2**63, "9.2E")],
)
def test_axis_counts_are_compact(n: int, shown: str) -> None:
    assert charts.compact(n) == shown


def test_wide_characters_are_measured_wider() -> None:
    assert charts.text_width("인증 실패") > charts.text_width("abcde")


def contrast(colour: str, against: str = "#ffffff") -> float:
    """WCAG 2's contrast ratio of two sRGB colours."""

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(colour), luminance(against)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("colour", [*charts.PALETTE, charts.TEXT, "#1b6e20", "#a4161a"])
def test_every_colour_stands_out_from_the_white_page_and_the_patterns_marks(colour: str) -> None:
    # 4.5:1, more than the 3:1 graphics need: the patterns' white marks sit on these too.
    assert contrast(colour) >= 4.5, colour


def test_the_grid_is_visible_but_lighter_than_the_bars() -> None:
    assert contrast(charts.GRID) >= 3
