"""The dashboard's figures: today's sign-ins by result and by method and today's fraud
reports (UTC day; from the rollups and the events not rolled up yet), users locked now,
challenges pending now; one tenant's, or every tenant's for a global admin only."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.fakes import FakeClock
from tests.support.usage import DAY, Written, write
from twostep.bootstrap import App
from twostep.domain.challenges import Challenge, ChallengeState
from twostep.domain.entities import AdminKey, MethodKind, Role, Tenant
from twostep.domain.errors import Forbidden, InvalidInput, TenantNotFound
from twostep.domain.ports.users import NewUser
from twostep.services.admin import OPERATOR
from twostep.services.rollups import RollupJob

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def acme(app: App) -> Tenant:
    return app.admin.create_tenant(OPERATOR, "acme")


def tenant_admin(tenant: Tenant) -> AdminKey:
    return AdminKey(1, "k1", "acme admin", Role.TENANT_ADMIN, tenant.id, 0.0, tenant=tenant.name)


def midnight(clock: FakeClock) -> float:
    return clock.now() - clock.now() % DAY


def test_today_counts_by_result_and_method_and_fraud_reports(
    app: App, clock: FakeClock, acme: Tenant
) -> None:
    default = app.admin.ensure_default_tenant()
    today = midnight(clock)
    write(
        app.storage,
        [
            Written(default.id, "default", today + 10, "accept", "app_code"),
            Written(default.id, "default", today + 20, "reject", "sms", "invalid_code"),
            Written(default.id, "default", today + 30, "reject", "app_push", "fraud_reported"),
            Written(default.id, "default", today + 40, "reject", None, "user_not_found"),
            Written(default.id, "default", today - 1, "accept", "app_code"),  # yesterday
            Written(acme.id, "acme", today + 50, "accept", "sms"),  # another tenant
        ],
    )
    RollupJob(app.deps, batch=2).round()  # some rolled up, some not: the same figures
    figures = app.usage.dashboard(OPERATOR, "default")
    assert figures.day == dt.datetime.fromtimestamp(clock.now(), dt.UTC).date()
    assert figures.by_result == {"accept": 1, "reject": 3}
    assert figures.by_method == {"app_code": 1, "sms": 1, "app_push": 1, None: 1}
    assert figures.fraud_reports == 1

    everyone = app.usage.dashboard(OPERATOR, None)
    assert everyone.by_result == {"accept": 2, "reject": 3}
    assert app.usage.dashboard(tenant_admin(acme), "acme").by_result == {"accept": 1}


def test_locked_users_are_those_locked_now(app: App, clock: FakeClock, acme: Tenant) -> None:
    names = ["ann", "bob", "cy", "dee"]
    users = [app.admin.create_user(OPERATOR, "default", NewUser(n)) for n in names]
    other = app.admin.create_user(OPERATOR, "acme", NewUser("eve"))
    with app.storage.transaction(write=True) as tx:
        tx.users.lock(users[0].id, clock.now() + 60)
        tx.users.lock(users[1].id, clock.now() + 3600)
        tx.users.lock(users[2].id, clock.now() - 1)  # the lock has run out
        tx.users.lock(other.id, clock.now() + 60)
    assert app.usage.dashboard(OPERATOR, "default").locked_users == 2
    assert app.usage.dashboard(OPERATOR, None).locked_users == 3
    clock.advance(61)
    assert app.usage.dashboard(OPERATOR, "default").locked_users == 1


def test_pending_challenges_are_those_not_decided_nor_expired(
    app: App, clock: FakeClock, acme: Tenant
) -> None:
    user = app.admin.create_user(OPERATOR, "default", NewUser("ann"))
    now = clock.now()

    def challenge(n: int, state: ChallengeState, expires_in: float) -> Challenge:
        return Challenge(
            id=f"tx{n}",
            tenant_id=user.tenant_id,
            user_id=user.id,
            method_id="m1",
            kind=MethodKind.SMS,
            state=state,
            max_attempts=3,
            created_at=now,
            expires_at=now + expires_in,
            last_sent_at=now,
        )

    with app.storage.transaction(write=True) as tx:
        tx.challenges.add(challenge(1, ChallengeState.PENDING, 120))
        tx.challenges.add(challenge(2, ChallengeState.PENDING, 60))
        tx.challenges.add(challenge(3, ChallengeState.PENDING, -1))  # expired, not swept yet
        tx.challenges.add(challenge(4, ChallengeState.ACCEPTED, 120))
    assert app.usage.dashboard(OPERATOR, "default").pending_challenges == 2
    assert app.usage.dashboard(tenant_admin(acme), "acme").pending_challenges == 0
    clock.advance(60)
    assert app.usage.dashboard(OPERATOR, "default").pending_challenges == 1


def test_every_tenant_is_for_global_admins_and_other_tenants_are_not_found(
    app: App, acme: Tenant
) -> None:
    with pytest.raises(Forbidden):
        app.usage.dashboard(tenant_admin(acme), None)
    with pytest.raises(TenantNotFound):
        app.usage.dashboard(tenant_admin(acme), "default")
    with pytest.raises(TenantNotFound):
        app.usage.dashboard(OPERATOR, "nosuch")


def test_by_day_counts_each_utc_day_of_a_range(app: App, clock: FakeClock) -> None:
    default = app.admin.ensure_default_tenant()
    today = midnight(clock)
    write(
        app.storage,
        [
            Written(default.id, "default", today - 2 * DAY + 5, "accept"),
            Written(default.id, "default", today - 2 * DAY + 6, "reject", reason="invalid_code"),
            Written(default.id, "default", today + 7, "accept"),
            Written(default.id, "default", today - 9 * DAY, "accept"),  # before the range
        ],
    )
    RollupJob(app.deps).round()
    last = dt.datetime.fromtimestamp(today, dt.UTC).date()
    first = last - dt.timedelta(days=6)
    rows = app.usage.by_day(OPERATOR, "default", first, last, "result")
    assert [(r.day, r.key, r.events) for r in rows] == [
        (last - dt.timedelta(days=2), "accept", 1),
        (last - dt.timedelta(days=2), "reject", 1),
        (last, "accept", 1),
    ]


def test_a_range_is_bounded_and_in_order(app: App) -> None:
    day = dt.date(2027, 1, 1)
    with pytest.raises(InvalidInput):
        app.usage.by_day(OPERATOR, "default", day, day - dt.timedelta(days=1))
    with pytest.raises(InvalidInput):
        app.usage.by_day(OPERATOR, "default", day, day + dt.timedelta(days=400))
    with pytest.raises(InvalidInput):
        app.usage.counts(OPERATOR, "default", day, day, ["result", "result"])
