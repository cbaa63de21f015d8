"""Remembered browsers: remembered on request, checked for exactly one user, tenant and
page, expired and revoked server-side; the sign-in skips the factor for them at the pages
only, audited as remembered_device."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.entities import Integration
from twostep.domain.errors import RememberedDeviceNotFound
from twostep.domain.results import Reason, Result
from twostep.services.admin import OPERATOR
from twostep.services.page_signin import PORTAL, PageSignIn
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")

DAY = 24 * 3600


@pytest.fixture
def alice(app: App) -> int:
    app.admin.update_settings(OPERATOR, "default", {"remember_device_enabled": True})
    builders.enrolled_user(app, "alice")
    return user_id(app, "alice")


def tenant_id(app: App, name: str = "default") -> int:
    with app.storage.transaction() as tx:
        tenant = tx.tenants.by_name(name)
    assert tenant is not None
    return tenant.id


def user_id(app: App, name: str) -> int:
    return app.admin.get_user(OPERATOR, "default", name).id


def remember(app: App, user_id: int, page: str = "my") -> str:
    made = app.remembered.remember(tenant_id(app), user_id, page, "Firefox")  # type: ignore[arg-type]
    assert made is not None
    return made[0]


class TestRemember:
    def test_a_cookie_for_remember_device_days(self, app: App, alice: int) -> None:
        app.admin.update_settings(OPERATOR, "default", {"remember_device_days": 30})
        made = app.remembered.remember(tenant_id(app), alice, "my", "Firefox")
        assert made is not None and made[1] == 30 * DAY

    def test_nothing_is_remembered_while_the_setting_is_off(self, app: App, alice: int) -> None:
        app.admin.update_settings(OPERATOR, "default", {"remember_device_enabled": False})
        assert app.remembered.remember(tenant_id(app), alice, "my", None) is None

    def test_only_a_digest_is_stored(self, app: App, alice: int) -> None:
        cookie = remember(app, alice)
        device_id, secret = cookie.split(".")
        with app.storage.transaction() as tx:
            found = tx.remembered_devices.find(device_id)
        assert found is not None and secret.encode() not in found[1]


class TestCheck:
    def test_the_right_cookie_for_its_user_tenant_and_page(self, app: App, alice: int) -> None:
        cookie = remember(app, alice)
        assert app.remembered.check(cookie, tenant_id(app), alice, "my")

    def test_never_for_another_user(self, app: App, alice: int) -> None:
        builders.enrolled_user(app, "bob")
        bob = user_id(app, "bob")
        assert not app.remembered.check(remember(app, alice), tenant_id(app), bob, "my")

    def test_never_for_another_tenant(self, app: App, alice: int) -> None:
        app.admin.create_tenant(OPERATOR, "other")
        assert not app.remembered.check(remember(app, alice), tenant_id(app, "other"), alice, "my")

    def test_never_for_another_page(self, app: App, alice: int) -> None:
        assert not app.remembered.check(remember(app, alice), tenant_id(app), alice, "signin")

    @pytest.mark.parametrize("tamper", ["secret", "id", "shape"])
    def test_a_tampered_cookie_is_refused(self, app: App, alice: int, tamper: str) -> None:
        device_id, secret = remember(app, alice).split(".")
        flipped = {"A": "B"}.get(secret[0], "A") + secret[1:]
        cookie = {
            "secret": f"{device_id}.{flipped}",
            "id": f"{'0' * 32}.{secret}",
            "shape": f"{device_id}.{secret}x",
        }[tamper]
        assert not app.remembered.check(cookie, tenant_id(app), alice, "my")

    def test_it_expires_after_remember_device_days(
        self, app: App, alice: int, clock: FakeClock
    ) -> None:
        cookie = remember(app, alice)
        clock.advance(14 * DAY - 1)
        assert app.remembered.check(cookie, tenant_id(app), alice, "my")
        clock.advance(1)
        assert not app.remembered.check(cookie, tenant_id(app), alice, "my")

    def test_turning_the_setting_off_stops_every_cookie(self, app: App, alice: int) -> None:
        cookie = remember(app, alice)
        app.admin.update_settings(OPERATOR, "default", {"remember_device_enabled": False})
        assert not app.remembered.check(cookie, tenant_id(app), alice, "my")


class TestRevoke:
    def test_the_user_forgets_one_or_all(self, app: App, alice: int) -> None:
        first, second = remember(app, alice), remember(app, alice, "signin")
        assert len(app.remembered.of_user(alice)) == 2
        assert app.remembered.forget(alice, first.split(".")[0]) == 1
        assert not app.remembered.check(first, tenant_id(app), alice, "my")
        assert app.remembered.forget(alice) == 1
        assert not app.remembered.check(second, tenant_id(app), alice, "signin")

    def test_an_admin_revokes_them_and_it_is_in_the_admin_trail(self, app: App, alice: int) -> None:
        cookie = remember(app, alice)
        assert [d.label for d in app.remembered.list_for(OPERATOR, "default", "alice")] == [
            "Firefox"
        ]
        assert app.remembered.revoke(OPERATOR, "default", "alice") == 1
        assert not app.remembered.check(cookie, tenant_id(app), alice, "my")
        (event,) = [
            e
            for e in app.admin_events.query(OPERATOR, "default")
            if e.action == "remembered_device.revoke"
        ]
        assert event.target == "alice" and event.changes == {"remembered_devices": [1, 0]}

    def test_an_unknown_device_id_is_not_found(self, app: App, alice: int) -> None:
        with pytest.raises(RememberedDeviceNotFound):
            app.remembered.revoke(OPERATOR, "default", "alice", "0" * 32)

    def test_re_registration_revokes_every_one(self, app: App, alice: int) -> None:
        cookie = remember(app, alice)
        app.accounts.require_registration(OPERATOR, "default", "alice")
        assert not app.remembered.check(cookie, tenant_id(app), alice, "my")


class TestSignIn:
    def test_a_page_skips_the_second_factor_audited_as_remembered_device(
        self, app: App, alice: int
    ) -> None:
        pages = PageSignIn(app.deps, app.signin, app.challenges, app.delivered, PORTAL)
        integration = pages.integration("default")
        assert integration is not None
        request = SignInRequest(
            user="alice", integration=integration, interface="web", remembered_device=True
        )
        decision = app.signin.sign_in(request)
        assert (decision.result, decision.reason) == (Result.ACCEPT, Reason.REMEMBERED_DEVICE)
        event = asdict(app.audit.query(OPERATOR, "default", limit=1)[0])
        assert event["reason"] == "remembered_device" and event["method"] is None

    def test_never_through_the_validate_api_or_radius(self, app: App, alice: int) -> None:
        vpn: Integration = builders.integration(app)[0]
        for interface in ("http", "radius"):
            request = SignInRequest(
                user="alice", integration=vpn, interface=interface, remembered_device=True
            )
            assert app.signin.sign_in(request).reason is not Reason.REMEMBERED_DEVICE

    def test_not_while_the_setting_is_off(self, app: App, alice: int) -> None:
        app.admin.update_settings(OPERATOR, "default", {"remember_device_enabled": False})
        pages = PageSignIn(app.deps, app.signin, app.challenges, app.delivered, PORTAL)
        integration = pages.integration("default")
        request = SignInRequest(
            user="alice", integration=integration, interface="web", remembered_device=True
        )
        assert app.signin.sign_in(request).reason is not Reason.REMEMBERED_DEVICE
