"""The self-service portal's use cases: a user manages their own security info through the
services admins use, as the actor ``self``; a user who must register may only register."""

from __future__ import annotations

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.admin_events import AdminEvent
from twostep.domain.entities import MethodStatus, MfaState, OtpParams
from twostep.domain.errors import (
    Conflict,
    InvalidInput,
    MethodDisabled,
    MethodNotFound,
    RegistrationFirst,
)
from twostep.domain.self_service import RegistrationReason
from twostep.factors import otp
from twostep.services.admin import OPERATOR
from twostep.services.self_service import Me

pytestmark = pytest.mark.usefixtures("backend")


def me_of(app: App, name: str = "alice", source: str | None = "198.51.100.4") -> Me:
    user = app.admin.get_user(OPERATOR, "default", name)
    return Me(user.tenant_id, "default", user.id, user.name, source)


def add_app(app: App, me: Me) -> tuple[str, bytes]:
    """An authenticator app added at the portal: its method id and the seed its QR holds."""
    added = app.self_service.add_app(me, "phone")
    secret = added.otpauth_uri.split("secret=")[1].split("&")[0]
    return added.method.id, otp.parse_seed(secret)


def code(app: App, seed: bytes) -> str:
    """The app's code now (the default parameters: SHA1, 6 digits, 30 s)."""
    return otp.hotp(seed, OtpParams(), otp.time_step(app.deps.clock.now(), 30))


def by_self(app: App) -> list[AdminEvent]:
    """The admin trail's events of users acting on themselves."""
    return [e for e in app.admin_events.query(OPERATOR, "default", limit=1000) if e.actor == "self"]


class TestRegistrationReasons:
    def test_an_enabled_user_with_nothing_registered_must_register(self, app: App) -> None:
        builders.user(app, "alice", mfa=MfaState.ENABLED)
        info = app.self_service.info(me_of(app))
        assert info.reason is RegistrationReason.NO_METHOD_REGISTERED

    def test_a_user_asked_to_register_again_must_register(self, app: App) -> None:
        builders.enrolled_user(app)
        app.accounts.require_registration(OPERATOR, "default", "alice")
        info = app.self_service.info(me_of(app))
        assert info.reason is RegistrationReason.REGISTRATION_REQUIRED

    def test_a_registered_user_and_a_user_without_mfa_need_not(self, app: App) -> None:
        builders.enrolled_user(app)
        builders.user(app, "bob", mfa=MfaState.DISABLED)
        assert app.self_service.info(me_of(app)).reason is None
        assert app.self_service.info(me_of(app, "bob")).reason is None

    def test_a_pending_app_is_not_a_registration(self, app: App) -> None:
        builders.user(app, "alice")
        add_app(app, me_of(app))
        info = app.self_service.info(me_of(app))
        assert info.reason is RegistrationReason.NO_METHOD_REGISTERED

    def test_a_user_who_must_register_may_do_nothing_else(self, app: App) -> None:
        builders.user(app, "alice")
        app.admin.update_settings(OPERATOR, "default", {"app_passwords_allowed": True})
        me = me_of(app)
        with pytest.raises(RegistrationFirst):
            app.self_service.create_app_password(me, "Outlook")
        with pytest.raises(RegistrationFirst):
            app.self_service.app_passwords(me)
        with pytest.raises(RegistrationFirst):
            app.signin_reports.recent(me)


class TestAuthenticatorApp:
    def test_added_then_confirmed_with_its_code_it_is_the_default(self, app: App) -> None:
        builders.user(app, "alice")
        me = me_of(app)
        method_id, seed = add_app(app, me)
        assert app.self_service.pending(me, method_id) is not None
        confirmed = app.self_service.confirm_app(me, method_id, code(app, seed))
        assert confirmed.status is MethodStatus.ACTIVE
        info = app.self_service.info(me)
        assert info.user.default_method_id == method_id
        assert info.user.mfa is MfaState.ENFORCED and info.reason is None

    def test_the_trail_names_the_user_as_self_from_the_web(self, app: App) -> None:
        builders.user(app, "alice")
        me = me_of(app)
        method_id, seed = add_app(app, me)
        app.self_service.confirm_app(me, method_id, code(app, seed))
        mine = [
            e for e in app.admin_events.query(OPERATOR, "default", limit=1000) if e.actor == "self"
        ]
        assert [e.action for e in mine] == ["method.enroll", "method.confirm"]
        for event in mine:
            assert (event.actor_name, event.role, event.interface) == ("alice", "user", "web")
            assert event.source == "198.51.100.4"
            assert event.target == f"alice/{method_id}"

    def test_another_users_method_is_out_of_reach(self, app: App) -> None:
        builders.user(app, "alice")
        bob = builders.enrolled_user(app, "bob")
        with pytest.raises(MethodNotFound):
            app.self_service.confirm_app(me_of(app), bob.method.id, "123456")
        with pytest.raises(MethodNotFound):
            app.self_service.set_default(me_of(app, "bob"), "nope")


class TestManaging:
    def test_the_last_method_cannot_be_deleted(self, app: App) -> None:
        alice = builders.enrolled_user(app)
        with pytest.raises(Conflict):
            app.self_service.delete_method(me_of(app), alice.method.id)
        assert [m.id for m in app.self_service.info(me_of(app)).methods] == [alice.method.id]

    def test_with_another_one_it_goes_and_the_default_moves(
        self, app: App, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        me = me_of(app)
        method_id, seed = add_app(app, me)
        clock.advance(30)
        app.self_service.confirm_app(me, method_id, code(app, seed))
        app.self_service.delete_method(me, alice.method.id)
        info = app.self_service.info(me)
        assert [m.id for m in info.methods] == [method_id]
        assert info.user.default_method_id == method_id

    def test_the_default_is_chosen_among_active_methods(self, app: App) -> None:
        builders.enrolled_user(app)
        me = me_of(app)
        method_id, seed = add_app(app, me)
        with pytest.raises(Conflict):  # still pending (method_pending)
            app.self_service.set_default(me, method_id)
        app.self_service.confirm_app(me, method_id, code(app, seed))
        app.self_service.set_default(me, method_id)
        assert app.self_service.info(me).user.default_method_id == method_id

    def test_the_language_is_set_and_cleared(self, app: App) -> None:
        builders.enrolled_user(app)
        me = me_of(app)
        assert app.self_service.set_language(me, "ko").language == "ko"
        assert app.self_service.set_language(me, None).language is None
        with pytest.raises(InvalidInput):
            app.self_service.set_language(me, "ko<script>")

    def test_app_passwords_are_created_shown_once_and_deleted(self, app: App) -> None:
        builders.enrolled_user(app)
        app.admin.update_settings(OPERATOR, "default", {"app_passwords_allowed": True})
        me = me_of(app)
        made = app.self_service.create_app_password(me, "Outlook")
        assert len(made.password.replace("-", "")) == 24
        [listed] = app.self_service.app_passwords(me)
        assert listed.name == "Outlook" and not hasattr(listed, "password")
        app.self_service.delete_app_password(me, listed.id)
        assert app.self_service.app_passwords(me) == []

    def test_a_mobile_authenticator_activation_is_for_this_user(self, app: App) -> None:
        builders.user(app, "alice")
        started = app.self_service.start_activation(me_of(app))
        assert started.uri.startswith("twostep://activate?url=")
        [event] = [
            e for e in app.admin_events.query(OPERATOR, "default", limit=1000) if e.actor == "self"
        ]
        assert (event.action, event.target) == ("device.activation", "alice")
        assert started.code.replace("-", "") not in str(event.changes)

    def test_the_kinds_an_admin_turned_off_cannot_be_added(self, app: App) -> None:
        builders.user(app, "alice")
        app.admin.update_settings(OPERATOR, "default", {"disabled_kinds": ["app_code"]})
        with pytest.raises(MethodDisabled):
            app.self_service.add_app(me_of(app))
