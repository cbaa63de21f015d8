"""Providers and what they are billed for (docs/operator-guide.md, "Providers and billing").

A provider is a billing account whose model is fixed at creation. Its billing month is a
calendar month in the provider's time zone (UTC unless it names one), and its statement of
a month covers the part of the month the provider existed: from ``max(month start,
created)`` to ``min(month end, deleted)``: the *window*.

- ``per_authentication``: every completed two-step verification in the window, in the
  provider's tenant, whatever the method and licensed or not. Completed: an audit event
  with result ``accept``, no reason (``mfa_not_required`` is not one) and a second-factor
  method (an app password stands in for two-step verification, so it is not one).
- ``per_user``: the users of the tenant who, at some moment of the window, were in MFA
  state ``enabled`` or ``enforced`` with no license assigned, whether or not they signed
  in. A state counts if it lasted a positive time inside the window (two changes at the
  same instant leave no moment in between).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from twostep.domain.errors import InvalidInput, StatementMonthInvalid

APP_PASSWORD = "app_password"  # noqa: S105 - the audit event's method, not a password
# A closed month freezes this long after its end: longer than an audit event can come in
# after its time (a sign-in's transaction is bounded to seconds; a PostgreSQL commit found
# late by the rollup gaps to 15 minutes), so no event of a frozen month is still to come.
CLOSE_GRACE = 6 * 3600
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class BillingModel(StrEnum):
    PER_USER = "per_user"
    PER_AUTHENTICATION = "per_authentication"


@dataclass(frozen=True, slots=True)
class Provider:
    id: str
    name: str
    billing_model: BillingModel
    tenant_id: int | None
    time_zone: str
    created_at: float
    deleted_at: float | None = None
    tenant: str | None = None  # the tenant's name, when read with it


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or InvalidInput."""
    try:
        if not name or len(name) > 64 or name.startswith("/") or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError) as e:  # zoneinfo raises several kinds
        raise InvalidInput("time_zone must be an IANA time zone name", field="time_zone") from e


def parse_month(text: str) -> tuple[int, int]:
    found = _MONTH.match(text)
    if found is None or not 1970 <= int(found.group(1)) <= 9999:
        raise StatementMonthInvalid("the month must be YYYY-MM")
    return int(found.group(1)), int(found.group(2))


def month_bounds(year: int, month: int, time_zone: str) -> tuple[float, float]:
    """The month's first instant and the next month's, as epoch seconds."""
    tz = zone(time_zone)
    start = dt.datetime(year, month, 1, tzinfo=tz)
    after = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start.timestamp(), after.timestamp()


def window(provider: Provider, year: int, month: int) -> tuple[float, float]:
    """The part of the month the provider existed: ``[start, end)``, maybe empty."""
    start, end = month_bounds(year, month, provider.time_zone)
    start = max(start, provider.created_at)
    if provider.deleted_at is not None:
        end = min(end, provider.deleted_at)
    return start, max(start, end)


def is_closed(provider: Provider, year: int, month: int, now: float) -> bool:
    """Past the month's end (or the provider's deletion) by the grace: it never changes.
    A month wholly before the provider's creation is closed once it ended."""
    _, end = month_bounds(year, month, provider.time_zone)
    if provider.deleted_at is not None:
        end = min(end, provider.deleted_at)
    return now >= end + CLOSE_GRACE


def completed_verification(result: str, reason: str | None, method: str | None) -> bool:
    """An audit event per-authentication billing counts (see the module's docstring)."""
    return result == "accept" and not reason and bool(method) and method != APP_PASSWORD


def billable_user(mfa: str, licensed: bool) -> bool:
    return mfa in ("enabled", "enforced") and not licensed


@dataclass(frozen=True, slots=True, order=True)
class BillableUser:
    tenant: str
    user: str


@dataclass(frozen=True, slots=True)
class TenantUnits:
    tenant: str
    units: int
    by_method: dict[str, int] = field(default_factory=dict)  # per_authentication


@dataclass(frozen=True, slots=True)
class Statement:
    provider: str
    provider_name: str
    billing_model: BillingModel
    month: str
    time_zone: str
    start: float  # the window
    end: float
    closed: bool  # frozen: it never changes again
    units: int
    tenants: tuple[TenantUnits, ...] = ()
    users: tuple[BillableUser, ...] = ()  # per_user: who is billed
