"""The reports page's charts (interfaces/web/charts.py) from the services' figures, in the
page's language: sign-ins per day by result and by method and the denials' reasons (one
usage count grouped by day, result, method and reason), and a statement's units.

Days are UTC days, every day of the range a column (a day without sign-ins is a gap, not
left out). A reason is shown as its stable code (docs/error-codes.md), as the audit
page shows it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from babel import Locale

from twostep.domain.billing import BillingModel, Statement
from twostep.domain.entities import MethodKind
from twostep.domain.usage import CountryDeliveries, Dimension, UsageCount
from twostep.interfaces.web import charts, texts
from twostep.interfaces.web.charts import Chart, Series, Texts
from twostep.interfaces.web.portal import words
from twostep.interfaces.web.texts import N_

Gettext = Callable[[str], str]

# What a usage count of the page is grouped by (one read, one pass: three charts).
BY: tuple[Dimension, ...] = ("day", "result", "method", "reason")
RESULT_COLOURS = {"accept": "#1b6e20", "reject": "#a4161a", "challenge": "#0b4f9c"}

DAY = N_("Day (UTC)")
TOTAL = N_("Total")
OTHER = N_("Other")
NO_SIGNINS = N_("No sign-ins in this range.")
BY_RESULT = N_("Sign-ins per day by result")
BY_RESULT_DESC = N_(
    "Sign-ins per day from %(first)s to %(last)s (UTC), each day's column divided by "
    "result: %(total)s in all. The table after the chart has the figures."
)
BY_METHOD = N_("Sign-ins per day by method")
BY_METHOD_DESC = N_(
    "Sign-ins per day from %(first)s to %(last)s (UTC), each day's column divided by "
    "method: %(total)s in all. The table after the chart has the figures."
)
DENIALS = N_("Why sign-ins were refused")
DENIALS_DESC = N_(
    "Refused sign-ins from %(first)s to %(last)s (UTC) by reason, as the audit names it: "
    "%(total)s in all. The table after the chart has the figures."
)
REASON = N_("Reason")
REFUSED = N_("Refused sign-ins")
NO_REFUSALS = N_("No sign-in was refused in this range.")
NO_REASON = N_("(none given)")
BILLED_METHODS = N_("Billable verifications by method")
BILLED_METHODS_DESC = N_(
    "Completed two-step verifications in %(month)s by method: %(total)s billable units. "
    "The table after the chart has the figures."
)
BILLED_USERS = N_("Billable users by organisation")
BILLED_USERS_DESC = N_(
    "Users configured for two-step verification without a license in %(month)s, by "
    "organisation: %(total)s billable units. The table after the chart has the figures."
)
COUNTRIES = N_("Texts and calls by destination country")
COUNTRIES_DESC = N_(
    "Texts, calls and emails to each destination country from %(first)s to %(last)s (UTC), "
    "sent by kind and refused by every gateway: %(total)s in all. The table after the chart "
    "has the figures."
)
COUNTRY = N_("Country")
SENT = N_("%(kind)s: sent")  # a kind not below
DELIVERED = {
    "sms": N_("Texts sent"),
    "sms_reply": N_("Texts to reply to, sent"),
    "voice": N_("Calls made"),
    "email": N_("Emails sent"),
}
FAILED = N_("Failed (every kind)")
NO_DELIVERIES = N_("No text, call or email in this range.")
SEGMENTS = N_("Text message parts by destination country")
SEGMENTS_DESC = N_(
    "Text message providers charge by the part (a long text is sent as several): "
    "%(total)s parts from %(first)s to %(last)s (UTC). The table after the chart has the "
    "figures."
)
PARTS = N_("Parts sent")
NO_PARTS = N_("No text message in this range.")
METHOD = N_("Method")
ORGANISATION = N_("Organisation")
UNITS = N_("Billable units")
NOTHING_BILLED = N_("Nothing is billable this month so far.")


def method_text(method: str | None) -> str:
    """A method's name for people (untranslated: the caller translates)."""
    if not method:
        return words.NO_METHOD
    try:
        return texts.KINDS.get(MethodKind(method), method)
    except ValueError:
        return method


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass(frozen=True, slots=True)
class Tally:
    """The page's usage counts summed, in one pass, for its three charts: per day by
    result, per day by method (each a cell per day and key, "" for none) and the refused
    sign-ins by reason (in the order first met)."""

    by: dict[str, dict[tuple[int, str], int]]
    totals: dict[str, Counter[str]]
    reasons: dict[str, int]


def tally(counts: Sequence[UsageCount]) -> Tally:
    results: dict[tuple[int, str], int] = {}
    methods: dict[tuple[int, str], int] = {}
    reasons: dict[str, int] = {}
    for c in counts:  # a count per day, result, method and reason: ~1,300 a month
        n = c.events
        cell = (c.day or 0, c.result or "")
        results[cell] = results.get(cell, 0) + n
        cell = (c.day or 0, c.method or "")
        methods[cell] = methods.get(cell, 0) + n
        if c.result == "reject":
            reasons[c.reason or ""] = reasons.get(c.reason or "", 0) + n
    cells = {"result": results, "method": methods}
    totals = {by: Counter[str]() for by in cells}
    for by, found in cells.items():  # from the cells: a few per day
        for (_day, key), n in found.items():
            totals[by][key] += n
    return Tally(cells, totals, reasons)


def _per_day(
    _: Gettext,
    found: Tally,
    first: dt.date,
    last: dt.date,
    by: str,
) -> tuple[list[Series], list[tuple[str, list[int]]], int]:
    """Series (results in their usual order, methods largest first) and a row per day."""
    cells, totals = found.by[by], found.totals[by]
    if by == "result":
        keys = [r for r in words.RESULTS if totals[r]] + sorted(
            k for k in totals if k not in words.RESULTS
        )
        series = [Series(k, _(words.RESULTS.get(k, k)), RESULT_COLOURS.get(k)) for k in keys]
    else:
        keys = sorted(totals, key=lambda k: (k == "", -totals[k], k))  # "before a method" last
        series = [Series(k, _(method_text(k))) for k in keys]
    # A row per day of the range, filled from the cells (not a look-up per day and key:
    # a year of days by six methods is 2,000 of them).
    start = (first - dt.date(1970, 1, 1)).days
    days = _days(first, last)
    table = [[0] * len(keys) for _ in days]
    column = {k: i for i, k in enumerate(keys)}
    for (day, key), n in cells.items():
        if 0 <= day - start < len(days):
            table[day - start][column[key]] += n
    rows = [(day.isoformat(), values) for day, values in zip(days, table, strict=True)]
    return series, rows, sum(totals.values())


def signins_by(_: Gettext, found: Tally, first: dt.date, last: dt.date, by: str) -> Chart:
    """Stacked columns per day; ``by`` is ``result`` or ``method``."""
    series, rows, total = _per_day(_, found, first, last, by)
    title, desc = (BY_RESULT, BY_RESULT_DESC) if by == "result" else (BY_METHOD, BY_METHOD_DESC)
    values = {"first": first.isoformat(), "last": last.isoformat(), "total": f"{total:,}"}
    words_ = Texts(_(title), _(desc) % values, _(DAY), _(TOTAL), _(NO_SIGNINS), _(OTHER))
    return charts.columns(f"by-{by}", words_, series, rows)


def denials(_: Gettext, found: Tally, first: dt.date, last: dt.date) -> Chart:
    """Refused sign-ins (result ``reject``) by reason, largest first."""
    rows = [(reason or _(NO_REASON), [n]) for reason, n in found.reasons.items()]
    values = {
        "first": first.isoformat(),
        "last": last.isoformat(),
        "total": f"{sum(found.reasons.values()):,}",
    }
    words_ = Texts(
        _(DENIALS), _(DENIALS_DESC) % values, _(REASON), _(TOTAL), _(NO_REFUSALS), _(OTHER)
    )
    return charts.bars("denials", words_, [Series("reject", _(REFUSED), "#a4161a")], rows)


def country_text(code: str, language: str) -> str:
    """A country's name in the page's language (Babel's CLDR data), with its code."""
    name = Locale.parse(language).territories.get(code)
    return f"{name} ({code})" if name else code


def deliveries(
    _: Gettext,
    language: str,
    found: Sequence[CountryDeliveries],
    first: dt.date,
    last: dt.date,
) -> tuple[Chart, Chart]:
    """Per country: sent by kind and failed (stacked), and the text message parts."""
    kinds = sorted({d.kind for d in found})
    cells: dict[str, list[int]] = {}
    parts: Counter[str] = Counter()
    for d in found:
        row = cells.setdefault(d.country, [0] * (len(kinds) + 1))
        row[kinds.index(d.kind)] += d.sent
        row[-1] += d.failed
        parts[d.country] += d.segments
    series = [
        Series(k, _(DELIVERED[k]) if k in DELIVERED else _(SENT) % {"kind": _(method_text(k))})
        for k in kinds
    ]
    series.append(Series("failed", _(FAILED), "#a4161a"))
    values = {
        "first": first.isoformat(),
        "last": last.isoformat(),
        "total": f"{sum(d.sent + d.failed for d in found):,}",
    }
    words_ = Texts(
        _(COUNTRIES), _(COUNTRIES_DESC) % values, _(COUNTRY), _(TOTAL), _(NO_DELIVERIES), _(OTHER)
    )
    rows = [(country_text(c, language), n) for c, n in cells.items()]
    volume = charts.bars("countries", words_, series, rows)
    values["total"] = f"{sum(parts.values()):,}"
    words_ = Texts(
        _(SEGMENTS), _(SEGMENTS_DESC) % values, _(COUNTRY), _(TOTAL), _(NO_PARTS), _(OTHER)
    )
    rows = [(country_text(c, language), [n]) for c, n in parts.items() if n]
    return volume, charts.bars("parts", words_, [Series("parts", _(PARTS))], rows)


def statement(_: Gettext, found: Statement) -> Chart:
    """Per-authentication: the units by method; per-user: by organisation."""
    values = {"month": found.month, "total": f"{found.units:,}"}
    units = [Series("units", _(UNITS))]
    if found.billing_model is BillingModel.PER_AUTHENTICATION:
        by_method: Counter[str] = Counter()
        for tenant in found.tenants:
            by_method.update(tenant.by_method)
        rows = [(_(method_text(m)), [n]) for m, n in by_method.items()]
        words_ = Texts(
            _(BILLED_METHODS),
            _(BILLED_METHODS_DESC) % values,
            _(METHOD),
            _(TOTAL),
            _(NOTHING_BILLED),
            _(OTHER),
        )
    else:
        rows = [(t.tenant, [t.units]) for t in found.tenants]
        words_ = Texts(
            _(BILLED_USERS),
            _(BILLED_USERS_DESC) % values,
            _(ORGANISATION),
            _(TOTAL),
            _(NOTHING_BILLED),
            _(OTHER),
        )
    return charts.bars("statement", words_, units, rows)
