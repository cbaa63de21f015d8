"""The property (issue 15, third target): for any stream of audit events around a billing
month's boundaries, in any provider time zone (UTC, whole-hour, half- and three-quarter-
hour offsets, daylight saving changes), with the provider created or deleted mid-month and
the rollup job run at any point, a per-authentication statement's numbers equal a brute-
force count over the raw events exactly. The brute force decides each event's month by
its local calendar date in the zone (not by the bounds the service computes)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from tests.support.fakes import FakeClock
from tests.support.usage import Written, forget_everything, write
from twostep.adapters.storage import tables
from twostep.bootstrap import App
from twostep.domain.billing import BillingModel, month_bounds
from twostep.domain.entities import Tenant
from twostep.services.admin import OPERATOR
from twostep.services.rollups import RollupJob

pytestmark = pytest.mark.usefixtures("backend")

ZONES = [
    "UTC",
    "Asia/Seoul",
    "America/New_York",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
    "Australia/Lord_Howe",
]
MONTHS = [(2027, 3), (2027, 10), (2027, 11), (2027, 12), (2028, 2)]
KINDS = [
    ("accept", None, "app_code"),  # billed
    ("accept", None, "sms"),  # billed
    ("accept", None, "app_push"),  # billed
    ("accept", "mfa_not_required", None),  # not: no second factor
    ("accept", None, "app_password"),  # not: an app password stands in for two steps
    ("accept", None, None),  # not: no method
    ("reject", "invalid_code", "app_code"),
    ("reject", "code_replayed", "sms"),
    ("challenge", None, "sms"),
]
HOUR_MS = 3_600_000
# Where an event falls: near the month's start or end (an offset in ms from the bound,
# the bound itself and its neighbours often), or anywhere in the month.
offsets = st.one_of(
    st.integers(-50 * HOUR_MS, 50 * HOUR_MS),
    st.sampled_from([0, -1, 1, -HOUR_MS, HOUR_MS]),
)
events = st.lists(
    st.tuples(
        st.integers(0, 1),  # tenant: the provider's, or another
        st.sampled_from(["start", "end", "mid"]),
        offsets,
        st.integers(0, len(KINDS) - 1),
    ),
    max_size=30,
)
# The provider's life relative to the month: created before it or in it (a fraction of
# the month), deleted never or later in it.
lives = st.tuples(
    st.one_of(st.just(None), st.floats(0.0, 1.0)),
    st.one_of(st.just(None), st.floats(0.0, 1.0)),
)


def brute_force(
    written: list[Written],
    tenant_id: int,
    zone: str,
    year: int,
    month: int,
    created: float,
    deleted: float | None,
) -> Counter[str]:
    tz = ZoneInfo(zone)
    found: Counter[str] = Counter()
    for one in written:
        local = dt.datetime.fromtimestamp(one.at, tz)
        if one.tenant_id != tenant_id or (local.year, local.month) != (year, month):
            continue
        if one.at < created or (deleted is not None and one.at >= deleted):
            continue
        if (
            one.result == "accept"
            and one.reason is None
            and one.method
            not in (
                None,
                "app_password",
            )
        ):
            found[one.method or ""] += 1
    return found


def forget_billing(app: App) -> None:
    forget_everything(app.storage)
    with app.storage.transaction(write=True) as tx:
        tx.conn.execute(delete(tables.providers))
        tx.conn.execute(delete(tables.billing_statements))


def _acme(app: App) -> Tenant:
    with app.storage.transaction() as tx:
        found = tx.tenants.by_name("acme")
    return found if found is not None else app.admin.create_tenant(OPERATOR, "acme")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    zone=st.sampled_from(ZONES),
    when=st.sampled_from(MONTHS),
    first=events,
    second=events,
    life=lives,
)
def test_a_per_authentication_statement_equals_a_brute_force_count(
    app: App,
    clock: FakeClock,
    zone: str,
    when: tuple[int, int],
    first: list[Any],
    second: list[Any],
    life: tuple[float | None, float | None],
) -> None:
    forget_billing(app)
    tenants = (app.admin.ensure_default_tenant(), _acme(app))
    year, month = when
    start, end = month_bounds(year, month, zone)
    created = start - 86400 * 40 if life[0] is None else start + life[0] * (end - start)
    deleted = None if life[1] is None else created + life[1] * (end - created)
    clock.value = created
    provider = app.providers.create(
        OPERATOR, "msp", BillingModel.PER_AUTHENTICATION, tenants[0].name, zone
    )
    if deleted is not None:
        clock.value = deleted
        app.providers.delete(OPERATOR, provider.id)

    def made(fields: Any) -> Written:
        tenant, where, ms, kind = fields
        bound = {"start": start, "end": end, "mid": (start + end) / 2}[where]
        result, reason, method = KINDS[kind]
        return Written(
            tenants[tenant].id,
            tenants[tenant].name,
            bound + ms / 1000,
            result=result,
            reason=reason,
            method=method,
        )

    # Some events rolled up, some not yet: the statement counts both.
    written = [made(f) for f in first]
    write(app.storage, written)
    RollupJob(app.deps, batch=7).run(max_rounds=100)
    later = [made(f) for f in second]
    write(app.storage, later)
    written += later

    clock.value = min(end, deleted or end) - 1  # the month is open: computed, not frozen
    statement = app.billing.statement(OPERATOR, provider.id, f"{year:04d}-{month:02d}")
    expected = brute_force(written, tenants[0].id, zone, year, month, created, deleted)
    assert statement.units == sum(expected.values())
    assert statement.tenants[0].by_method == {k: v for k, v in sorted(expected.items()) if v}
    assert not statement.closed
