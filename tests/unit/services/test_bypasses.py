"""One-time bypass and trusted networks as steps of the one sign-in flow: who skips the
second factor, how often, audited how, and what still comes first."""

from __future__ import annotations

from dataclasses import asdict, replace

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.entities import Integration, MfaState
from twostep.domain.errors import Forbidden, InvalidInput, TenantNotFound, UserNotFound
from twostep.domain.results import Decision, Reason, Result
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import Entry, SignInRequest

pytestmark = pytest.mark.usefixtures("backend")

ACCEPTED = Decision(Result.ACCEPT, Reason.BYPASS)


@pytest.fixture
def vpn(app: App) -> Integration:
    return builders.integration(app)[0]


def sign_in(app: App, integration: Integration, user: str = "alice", **kw: object) -> Decision:
    return app.signin.sign_in(SignInRequest(user=user, integration=integration, **kw))  # type: ignore[arg-type]


def events(app: App, tenant: str = "default") -> list[dict[str, object]]:
    return [asdict(e) for e in app.audit.query(OPERATOR, tenant, limit=1000)]


def trail(app: App, action: str) -> list[dict[str, object]]:
    return [asdict(e) for e in app.admin_events.query(OPERATOR, "default", action=action)]


class TestBypass:
    def test_the_next_sign_in_is_accepted_once_without_a_second_factor(
        self, app: App, vpn: Integration
    ) -> None:
        builders.enrolled_user(app)
        app.bypasses.grant(OPERATOR, "default", "alice", 300)
        assert sign_in(app, vpn) == ACCEPTED
        assert sign_in(app, vpn).reason is Reason.CODE_REQUIRED  # used up
        first = events(app)[0]
        assert (first["result"], first["reason"], first["method"]) == ("accept", "bypass", None)

    def test_it_is_not_used_after_its_window(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        builders.enrolled_user(app)
        app.bypasses.grant(OPERATOR, "default", "alice", 60)
        clock.advance(60)
        assert sign_in(app, vpn).reason is Reason.CODE_REQUIRED

    def test_a_code_sent_with_it_is_not_checked_or_spent(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        code = alice.totp(clock.now())
        app.bypasses.grant(OPERATOR, "default", "alice")
        assert sign_in(app, vpn, code="000000") == ACCEPTED
        assert sign_in(app, vpn, code=code).result is Result.ACCEPT  # still unspent
        assert sign_in(app, vpn, code=code).reason is Reason.CODE_REPLAYED

    def test_a_cancelled_bypass_is_not_used(self, app: App, vpn: Integration) -> None:
        builders.enrolled_user(app)
        app.bypasses.grant(OPERATOR, "default", "alice")
        assert app.bypasses.cancel(OPERATOR, "default", "alice") is True
        assert app.bypasses.cancel(OPERATOR, "default", "alice") is False
        assert sign_in(app, vpn).reason is Reason.CODE_REQUIRED

    def test_it_works_for_a_user_with_nothing_registered(self, app: App, vpn: Integration) -> None:
        builders.user(app, "bob")
        app.bypasses.grant(OPERATOR, "default", "bob")
        assert sign_in(app, vpn, "bob") == ACCEPTED
        assert sign_in(app, vpn, "bob").reason is Reason.NO_METHOD_REGISTERED

    @pytest.mark.parametrize("seconds", [0, -5, 1801, 86400])
    def test_a_window_outside_1_to_1800_seconds_is_refused(self, app: App, seconds: int) -> None:
        builders.user(app)
        with pytest.raises(InvalidInput, match="from 1 to 1800"):
            app.bypasses.grant(OPERATOR, "default", "alice", seconds)

    def test_an_unknown_user_cannot_be_granted_one(self, app: App) -> None:
        with pytest.raises(UserNotFound):
            app.bypasses.grant(OPERATOR, "default", "nobody")

    def test_grant_and_cancel_are_in_the_admin_trail(self, app: App, clock: FakeClock) -> None:
        builders.user(app)
        app.bypasses.grant(OPERATOR, "default", "alice", 600)
        app.bypasses.cancel(OPERATOR, "default", "alice")
        granted, cancelled = trail(app, "user.bypass")[0], trail(app, "user.bypass_cancel")[0]
        assert granted["target"] == "alice"
        assert granted["changes"] == {
            "bypass_until": [None, clock.now() + 600],
            "seconds": [None, 600],
        }
        assert cancelled["changes"] == {"bypass_until": [clock.now() + 600, None]}


class TestBypassStillRefuses:
    def test_a_locked_user(self, app: App, vpn: Integration, clock: FakeClock) -> None:
        builders.enrolled_user(app)
        app.admin.update_settings(OPERATOR, "default", {"max_failures": 1})
        sign_in(app, vpn, code="000000")  # locks
        app.bypasses.grant(OPERATOR, "default", "alice")
        assert sign_in(app, vpn).reason is Reason.USER_LOCKED
        app.admin.unlock_user(OPERATOR, "default", "alice")
        assert sign_in(app, vpn) == ACCEPTED  # the lock did not spend it

    def test_a_disabled_user(self, app: App, vpn: Integration) -> None:
        builders.enrolled_user(app)
        app.bypasses.grant(OPERATOR, "default", "alice")
        app.accounts.disable(OPERATOR, "default", "alice")
        assert sign_in(app, vpn).reason is Reason.USER_DISABLED

    def test_a_user_asked_to_register_again(self, app: App, vpn: Integration) -> None:
        builders.enrolled_user(app)
        app.accounts.require_registration(OPERATOR, "default", "alice")
        app.bypasses.grant(OPERATOR, "default", "alice")
        assert sign_in(app, vpn).reason is Reason.REGISTRATION_REQUIRED

    def test_a_wrong_primary_password_before_it(self, app: App, vpn: Integration) -> None:
        builders.enrolled_user(app)
        app.passwords.set_password(OPERATOR, "default", "alice", "correct horse battery")
        app.bypasses.grant(OPERATOR, "default", "alice")
        assert sign_in(app, vpn, password="wrong").reason is Reason.INVALID_PASSWORD
        assert sign_in(app, vpn, password="correct horse battery") == ACCEPTED

    def test_radius_password_and_code_checks_the_password_first(
        self, app: App, vpn: Integration
    ) -> None:
        builders.enrolled_user(app)
        app.passwords.set_password(OPERATOR, "default", "alice", "correct horse battery")
        app.bypasses.grant(OPERATOR, "default", "alice")
        asked = {"entry": Entry.PASSWORD_AND_CODE, "interface": "radius"}
        assert sign_in(app, vpn, typed="nope,123456", **asked).reason is Reason.INVALID_PASSWORD
        assert sign_in(app, vpn, typed="correct horse battery", **asked) == ACCEPTED

    def test_mfa_disabled_users_need_none(self, app: App, vpn: Integration) -> None:
        builders.user(app, mfa=MfaState.DISABLED)
        app.bypasses.grant(OPERATOR, "default", "alice")
        assert sign_in(app, vpn).reason is Reason.MFA_NOT_REQUIRED
        assert app.bypasses.cancel(OPERATOR, "default", "alice") is True  # left unspent


class TestAcrossTenants:
    def test_another_tenants_integration_cannot_use_it(self, app: App) -> None:
        app.admin.create_tenant(OPERATOR, "acme")
        builders.enrolled_user(app)
        builders.user(app, "alice", tenant="acme")
        theirs = builders.integration(app, "acme-vpn", tenant="acme")[0]
        app.bypasses.grant(OPERATOR, "default", "alice")
        # acme's alice is another user: no bypass of hers, and default's is untouched.
        assert sign_in(app, theirs).reason is Reason.NO_METHOD_REGISTERED
        with pytest.raises(Forbidden):
            sign_in(app, theirs, tenant="default")
        ours = builders.integration(app, "web")[0]
        assert sign_in(app, ours) == ACCEPTED

    def test_the_claim_itself_names_the_tenant(self, app: App) -> None:
        """Even an integration object that claimed the other tenant's id would not reach
        the bypass through a user of its own tenant: the update's WHERE has the tenant."""
        app.admin.create_tenant(OPERATOR, "acme")
        builders.user(app)
        app.bypasses.grant(OPERATOR, "default", "alice")
        with app.storage.transaction() as tx:
            alice = tx.users.by_name(1, "alice")
            acme = tx.tenants.by_name("acme")
        assert alice is not None and acme is not None
        with app.storage.transaction(write=True) as tx:
            assert tx.users.claim_bypass(alice.id, acme.id, app.deps.clock.now()) is False
        with app.storage.transaction(write=True) as tx:
            assert tx.users.claim_bypass(alice.id, alice.tenant_id, app.deps.clock.now())

    def test_a_tenant_admin_cannot_grant_one_in_another_tenant(
        self, app: App, tenant_admin_role: object
    ) -> None:
        acme = app.admin.create_tenant(OPERATOR, "acme")
        builders.user(app)
        theirs = replace(OPERATOR, role=tenant_admin_role, tenant_id=acme.id)  # type: ignore[arg-type]
        with pytest.raises(TenantNotFound):
            app.bypasses.grant(theirs, "default", "alice")


TRUSTED = {"trusted_networks_enabled": True, "trusted_networks": ["10.0.0.0/8", "2001:db8::/32"]}


class TestTrustedNetworks:
    @pytest.fixture
    def web(self, app: App) -> Integration:
        builders.integration(app, "web")
        app.admin.update_settings(OPERATOR, "default", TRUSTED)
        return app.admin.set_trusted_client_addresses(OPERATOR, "default", "web", True)

    def test_a_vouched_address_inside_skips_the_second_factor(
        self, app: App, web: Integration
    ) -> None:
        builders.enrolled_user(app)
        found = sign_in(app, web, client_ip="10.9.8.7", sent_ip="10.9.8.7")
        assert found == Decision(Result.ACCEPT, Reason.TRUSTED_NETWORK)
        event = events(app)[0]
        assert (event["reason"], event["detail"], event["method"]) == (
            "trusted_network",
            "10.0.0.0/8",
            None,
        )
        assert sign_in(app, web, sent_ip="2001:db8::1").reason is Reason.TRUSTED_NETWORK

    def test_an_address_outside_asks_for_the_second_factor(
        self, app: App, web: Integration
    ) -> None:
        builders.enrolled_user(app)
        assert sign_in(app, web, sent_ip="192.0.2.1").reason is Reason.CODE_REQUIRED

    def test_an_unflagged_integrations_address_is_only_recorded(
        self, app: App, web: Integration, vpn: Integration
    ) -> None:
        builders.enrolled_user(app)
        found = sign_in(app, vpn, client_ip="10.9.8.7", sent_ip="10.9.8.7")
        assert found.reason is Reason.CODE_REQUIRED
        app.admin.set_trusted_client_addresses(OPERATOR, "default", "web", False)
        web = replace(web, trusted_client_addresses=False)
        assert sign_in(app, web, sent_ip="10.9.8.7").reason is Reason.CODE_REQUIRED

    def test_an_address_twostep_saw_itself_is_not_vouched_for(
        self, app: App, web: Integration
    ) -> None:
        """client_ip alone (a browser's address at the pages, a NAS's) never meets a
        trusted network: only the address the integration sent (sent_ip)."""
        builders.enrolled_user(app)
        assert sign_in(app, web, client_ip="10.9.8.7").reason is Reason.CODE_REQUIRED

    def test_the_tenant_switch_turns_it_off(self, app: App, web: Integration) -> None:
        builders.enrolled_user(app)
        app.admin.update_settings(OPERATOR, "default", {"trusted_networks_enabled": False})
        assert sign_in(app, web, sent_ip="10.9.8.7").reason is Reason.CODE_REQUIRED

    def test_lock_and_disable_still_refuse(self, app: App, web: Integration) -> None:
        builders.enrolled_user(app)
        app.admin.update_settings(OPERATOR, "default", {"max_failures": 1})
        sign_in(app, web, code="000000")
        assert sign_in(app, web, sent_ip="10.9.8.7").reason is Reason.USER_LOCKED
        app.accounts.disable(OPERATOR, "default", "alice")
        assert sign_in(app, web, sent_ip="10.9.8.7").reason is Reason.USER_DISABLED

    def test_it_does_not_spend_an_open_bypass(self, app: App, web: Integration) -> None:
        builders.enrolled_user(app)
        app.bypasses.grant(OPERATOR, "default", "alice")
        assert sign_in(app, web, sent_ip="10.9.8.7").reason is Reason.TRUSTED_NETWORK
        assert sign_in(app, web, sent_ip="192.0.2.1") == ACCEPTED

    def test_the_flag_change_is_in_the_admin_trail(self, app: App, web: Integration) -> None:
        assert web.trusted_client_addresses is True
        change = trail(app, "integration.update")[0]
        assert change["changes"] == {"trusted_client_addresses": [False, True]}
