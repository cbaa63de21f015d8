"""The property for per-user billing: for any sequence of user changes around a billing
month's bounds (created, MFA state changed, license assigned or taken back, deleted; two
at the same instant too), in any provider zone, a per-user statement bills exactly the
users a brute force finds unlicensed and configured for MFA at some moment of the month:
it replays the changes and looks at the month's first instant and at every change in it
(the state then is the last one made at or before it)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from tests.support.fakes import FakeClock
from twostep.adapters.storage import tables
from twostep.bootstrap import App
from twostep.domain.billing import BillingModel, month_bounds
from twostep.domain.entities import MfaState
from twostep.domain.errors import TwostepError
from twostep.domain.ports.users import NewUser
from twostep.services.admin import OPERATOR, UserChanges

pytestmark = pytest.mark.usefixtures("backend")

ZONES = ["UTC", "Asia/Kolkata", "America/New_York", "Pacific/Chatham"]
NAMES = ["ann", "bob", "cy"]
STATES = [MfaState.DISABLED, MfaState.ENABLED, MfaState.ENFORCED]
HOUR = 3600.0
# A change: what, to whom, when (near the month's start or end, in seconds; ties often).
changes = st.lists(
    st.tuples(
        st.sampled_from(["create", "mfa", "assign", "unassign", "delete"]),
        st.integers(0, len(NAMES) - 1),
        st.integers(0, len(STATES) - 1),
        st.sampled_from(["start", "end"]),
        st.one_of(st.integers(-30, 30).map(lambda h: h * HOUR), st.sampled_from([0.0, -1.0])),
    ),
    max_size=25,
)


def forget(app: App) -> None:
    with app.storage.transaction(write=True) as tx:
        for table in (
            tables.license_assignments,
            tables.license_pools,
            tables.billing_user_states,
            tables.billing_statements,
            tables.providers,
            tables.users,
        ):
            tx.conn.execute(delete(table))


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(  # enabled and disabled again at one instant: no moment billable
    zone="UTC",
    initial=[0, 0, 0],
    steps=[("mfa", 0, 1, "end", -5 * HOUR), ("mfa", 0, 0, "end", -5 * HOUR)],
)
@given(
    zone=st.sampled_from(ZONES),
    initial=st.lists(st.integers(0, len(STATES) - 1), min_size=3, max_size=3),
    steps=changes,
)
def test_a_per_user_statement_bills_exactly_the_users_a_replay_finds(
    app: App, clock: FakeClock, zone: str, initial: list[int], steps: list[Any]
) -> None:
    forget(app)
    start, end = month_bounds(2027, 3, zone)
    clock.value = start - 40 * 86400
    provider = app.providers.create(OPERATOR, "msp", BillingModel.PER_USER, "default", zone)
    app.licenses.set_held(OPERATOR, "default", 100)

    # The replay: per user id, (time, billable) in the order applied.
    history: dict[int, list[tuple[float, bool]]] = {}
    # Every user exists before the first change (so most changes change something).
    made = [("create", who, state, "start", -31 * HOUR) for who, state in enumerate(initial)]
    timed = sorted(
        (({"start": start, "end": end}[where] + offset), index, step)
        for index, (*step, where, offset) in enumerate([*made, *steps])
    )
    for at, _index, (kind, who, state) in timed:
        clock.value = at
        name = NAMES[who]
        try:
            if kind == "create":
                app.admin.create_user(OPERATOR, "default", NewUser(name, mfa=STATES[state]))
            elif kind == "mfa":
                app.admin.update_user(OPERATOR, "default", name, UserChanges(mfa=STATES[state]))
            elif kind == "assign":
                app.licenses.assign(OPERATOR, "default", name)
            elif kind == "unassign":
                app.licenses.unassign(OPERATOR, "default", name)
            else:
                user = app.admin.get_user(OPERATOR, "default", name)
                app.admin.delete_user(OPERATOR, "default", name)
                history.setdefault(user.id, []).append((at, False))
                continue
        except TwostepError:  # no such user, or one already there: nothing happened
            continue
        user = app.admin.get_user(OPERATOR, "default", name)
        with app.storage.transaction() as tx:
            licensed = tx.providers.is_licensed(user.id)
        billable = user.mfa is not MfaState.DISABLED and not licensed
        history.setdefault(user.id, []).append((at, billable))

    expected = set()
    for user_id, states in history.items():
        moments = [start, *(at for at, _ in states if start <= at < end)]
        for moment in moments:
            then = [billable for at, billable in states if at <= moment]
            if then and then[-1]:
                expected.add(user_id)
                break

    clock.value = end - 1
    statement = app.billing.statement(OPERATOR, provider.id, "2027-03")
    assert statement.units == len(expected)
    with app.storage.transaction() as tx:
        names = {
            s.user_id: s.user_name for s in tx.billing.user_states(provider.tenant_id or 0, end)
        }
    assert sorted(u.user for u in statement.users) == sorted(names[i] for i in expected)
