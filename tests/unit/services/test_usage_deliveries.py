"""Texts, calls and emails by destination country: counted in the transaction that records
each delivery's outcome (sent, or failed by every gateway; SMS segments of what was sent),
read per tenant, or for every tenant by a global admin only."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.phones import LANDLINE, MOBILE, OTHER_MOBILE, sent_to
from twostep.bootstrap import App
from twostep.domain.entities import AdminKey, Integration, MethodKind, Role, Tenant
from twostep.domain.errors import Forbidden, InvalidInput, TenantNotFound
from twostep.domain.results import Result
from twostep.domain.sms import segments
from twostep.domain.usage import CountryDeliveries
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")

DEAD = {"url": "http://127.0.0.1:9/sms", "body": {"to": "{to}"}, "timeout": 1.0}


@pytest.fixture
def vpn(app: App) -> Integration:
    return builders.integration(app)[0]


def today(clock: FakeClock) -> dt.date:
    return dt.datetime.fromtimestamp(clock.now(), dt.UTC).date()


def sign_in(app: App, vpn: Integration, user: str, kind: MethodKind, number: str) -> str:
    builders.user(app, user)
    app.enroll.enroll_phone(OPERATOR, "default", user, kind, number)
    decision = app.signin.sign_in(SignInRequest(user=user, integration=vpn, client_ip="::1"))
    return decision.transaction_id or ""


def test_texts_and_calls_are_counted_by_country_and_kind(
    app: App, vpn: Integration, clock: FakeClock
) -> None:
    texted = sign_in(app, vpn, "ann", MethodKind.SMS, MOBILE)
    sign_in(app, vpn, "bob", MethodKind.SMS, OTHER_MOBILE)
    sign_in(app, vpn, "cy", MethodKind.VOICE, LANDLINE)
    clock.advance(30)
    assert app.delivered.resend(vpn, texted).result is Result.CHALLENGE
    body = sent_to(app, texted)["body"]

    found = app.usage.deliveries_by_country(OPERATOR, "default", today(clock), today(clock))
    assert found == [
        CountryDeliveries("US", "sms", 2, 0, 2 * segments(body)),
        CountryDeliveries("DE", "sms", 1, 0, segments(body)),
        CountryDeliveries("GB", "voice", 1, 0, 0),
    ]


def test_a_delivery_every_gateway_refused_counts_as_failed(
    app: App, vpn: Integration, clock: FakeClock
) -> None:
    app.gateways.add(OPERATOR, "default", "dead", "http", DEAD)
    sign_in(app, vpn, "ann", MethodKind.SMS, OTHER_MOBILE)
    found = app.usage.deliveries_by_country(OPERATOR, None, today(clock), today(clock))
    assert found == [CountryDeliveries("DE", "sms", 0, 1, 0)]


def test_days_outside_the_range_are_left_out(app: App, vpn: Integration, clock: FakeClock) -> None:
    sign_in(app, vpn, "ann", MethodKind.SMS, MOBILE)
    day = today(clock)
    clock.advance(86400)
    sign_in(app, vpn, "bob", MethodKind.SMS, MOBILE)
    assert [c.sent for c in app.usage.deliveries_by_country(OPERATOR, None, day, day)] == [1]
    tomorrow = day + dt.timedelta(days=1)
    assert [c.sent for c in app.usage.deliveries_by_country(OPERATOR, None, day, tomorrow)] == [2]
    before = day - dt.timedelta(days=1)
    assert app.usage.deliveries_by_country(OPERATOR, None, before, before) == []


def test_a_tenant_admin_sees_only_their_tenant(
    app: App, vpn: Integration, clock: FakeClock
) -> None:
    acme: Tenant = app.admin.create_tenant(OPERATOR, "acme")
    sign_in(app, vpn, "ann", MethodKind.SMS, MOBILE)
    admin = AdminKey(1, "k1", "acme admin", Role.TENANT_ADMIN, acme.id, 0.0, tenant="acme")
    day = today(clock)
    assert app.usage.deliveries_by_country(admin, "acme", day, day) == []
    with pytest.raises(TenantNotFound):  # as if it did not exist
        app.usage.deliveries_by_country(admin, "default", day, day)
    with pytest.raises(Forbidden):
        app.usage.deliveries_by_country(admin, None, day, day)


def test_a_range_backwards_or_over_the_maximum_is_refused(app: App, clock: FakeClock) -> None:
    day = today(clock)
    with pytest.raises(InvalidInput):
        app.usage.deliveries_by_country(OPERATOR, None, day, day - dt.timedelta(days=1))
    with pytest.raises(InvalidInput):
        app.usage.deliveries_by_country(OPERATOR, None, day - dt.timedelta(days=400), day)
