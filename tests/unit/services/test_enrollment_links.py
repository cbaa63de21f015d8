"""One-time enrollment links: made by an admin for a user with no method yet, kept as a
digest, spent once (after the user's password when they have one), and of no use once
the user has a method."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.phones import MOBILE, code_of
from twostep.adapters.storage.tables import enrollment_links
from twostep.bootstrap import App
from twostep.domain.entities import MethodKind
from twostep.domain.errors import (
    EnrollmentLinkInvalid,
    InvalidInput,
    Unauthenticated,
    UserRegistered,
)
from twostep.domain.self_service import RegistrationReason
from twostep.services.admin import OPERATOR
from twostep.services.enrollment_links import PATH, token_hash

pytestmark = pytest.mark.usefixtures("backend")


def token_of(url: str) -> str:
    assert PATH in url
    return url.split(PATH, 1)[1]


def new_link(app: App, user: str = "alice") -> str:
    return token_of(app.enrollment_links.create(OPERATOR, "default", user).url)


class TestCreating:
    def test_shown_once_kept_as_a_digest_for_seven_days(self, app: App) -> None:
        builders.user(app, "alice")
        made = app.enrollment_links.create(OPERATOR, "default", "alice")
        token = token_of(made.url)
        assert made.url.startswith(app.config.server.public_url.rstrip("/"))
        assert len(token) >= 43  # 256 random bits
        assert made.link.expires_at - made.link.created_at == 7 * 24 * 3600
        with app.storage.engine.connect() as conn:
            [row] = conn.execute(select(enrollment_links)).all()
        assert token not in str(tuple(row))
        assert row.token_hash == token_hash(token)
        [event] = app.admin_events.query(OPERATOR, "default", action="enrollment_link.create")
        assert token not in str(event.changes) and event.target == f"alice/{made.link.id}"

    def test_the_tenant_sets_how_long_it_works(self, app: App) -> None:
        builders.user(app, "alice")
        app.admin.update_settings(OPERATOR, "default", {"enrollment_link_seconds": 3600})
        made = app.enrollment_links.create(OPERATOR, "default", "alice")
        assert made.link.expires_at - made.link.created_at == 3600

    def test_not_for_a_user_who_has_a_method(self, app: App) -> None:
        builders.enrolled_user(app)
        with pytest.raises(UserRegistered):
            app.enrollment_links.create(OPERATOR, "default", "alice")

    def test_a_new_link_revokes_the_open_one(self, app: App) -> None:
        builders.user(app, "alice")
        old = new_link(app)
        new = new_link(app)
        with pytest.raises(EnrollmentLinkInvalid):
            app.enrollment_links.look(old)
        assert app.enrollment_links.look(new).user == "alice"
        statuses = [
            link.status(app.deps.clock.now())
            for link in app.enrollment_links.list(OPERATOR, "default", "alice")
        ]
        assert sorted(statuses) == ["open", "revoked"]


class TestRedeeming:
    def test_without_a_password_the_link_alone_opens_the_registration(self, app: App) -> None:
        builders.user(app, "alice")
        token = new_link(app)
        assert not app.enrollment_links.look(token).needs_password
        me = app.enrollment_links.redeem(token, None, "198.51.100.4")
        assert (me.tenant, me.user) == ("default", "alice")
        info = app.self_service.info(me)
        assert info.reason is RegistrationReason.NO_METHOD_REGISTERED
        [used] = app.admin_events.query(OPERATOR, "default", action="enrollment_link.use")
        assert (used.actor, used.actor_name, used.interface) == ("self", "alice", "web")

    def test_it_works_once(self, app: App) -> None:
        builders.user(app, "alice")
        token = new_link(app)
        app.enrollment_links.redeem(token, None, None)
        with pytest.raises(EnrollmentLinkInvalid):
            app.enrollment_links.redeem(token, None, None)
        with pytest.raises(EnrollmentLinkInvalid):
            app.enrollment_links.look(token)

    def test_it_expires(self, app: App, clock: FakeClock) -> None:
        builders.user(app, "alice")
        token = new_link(app)
        clock.advance(7 * 24 * 3600)
        with pytest.raises(EnrollmentLinkInvalid):
            app.enrollment_links.redeem(token, None, None)

    def test_an_unknown_or_absurd_token_is_refused_alike(self, app: App) -> None:
        for token in ("", "x" * 43, "x" * 5000, "\x00"):
            with pytest.raises(EnrollmentLinkInvalid):
                app.enrollment_links.redeem(token, None, None)

    def test_a_user_with_a_password_gives_it_first(self, app: App) -> None:
        builders.user(app, "alice")
        app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
        token = new_link(app)
        assert app.enrollment_links.look(token).needs_password
        with pytest.raises(InvalidInput):
            app.enrollment_links.redeem(token, None, None)
        with pytest.raises(Unauthenticated):
            app.enrollment_links.redeem(token, "wrong horse", None)
        # A wrong password spends nothing; the sign-in audited it as any other.
        me = app.enrollment_links.redeem(token, "correct horse", "198.51.100.4")
        assert me.user == "alice"
        reasons = [e.reason for e in app.audit.query(OPERATOR, "default", user="alice")]
        assert reasons == ["invalid_password", "no_method_registered"]

    def test_after_registering_elsewhere_the_link_is_refused_and_revoked(self, app: App) -> None:
        builders.user(app, "alice")
        token = new_link(app)
        builders.app_code(app, "alice")  # an admin enrolled an app meanwhile
        with pytest.raises(EnrollmentLinkInvalid):
            app.enrollment_links.redeem(token, None, None)
        [link] = app.enrollment_links.list(OPERATOR, "default", "alice")
        assert link.status(app.deps.clock.now()) == "revoked"

    def test_registering_at_the_portal_revokes_the_open_links(self, app: App) -> None:
        builders.user(app, "alice")
        me = app.enrollment_links.redeem(new_link(app), None, None)
        spare = new_link(app)
        started = app.phones.start(me, MethodKind.SMS, MOBILE)
        tx = started.decision.transaction_id or ""
        app.phones.confirm(me, started.method.id, tx, code_of(app, tx))
        with pytest.raises(EnrollmentLinkInvalid):
            app.enrollment_links.look(spare)

    def test_a_disabled_user_cannot_use_one(self, app: App) -> None:
        builders.user(app, "alice")
        token = new_link(app)
        app.accounts.disable(OPERATOR, "default", "alice")
        with pytest.raises(EnrollmentLinkInvalid):
            app.enrollment_links.redeem(token, None, None)

    def test_redeemed_at_once_it_is_spent_once(self, app: App) -> None:
        builders.user(app, "alice")
        token = new_link(app)

        def redeem(_: int) -> bool:
            try:
                app.enrollment_links.redeem(token, None, None)
            except EnrollmentLinkInvalid:
                return False
            return True

        with ThreadPoolExecutor(4) as pool:
            won = list(pool.map(redeem, range(4)))
        assert won.count(True) == 1
        used = app.admin_events.query(OPERATOR, "default", action="enrollment_link.use")
        assert len(used) == 1

    def test_an_admin_revokes_the_open_links(self, app: App) -> None:
        builders.user(app, "alice")
        token = new_link(app)
        assert app.enrollment_links.revoke(OPERATOR, "default", "alice") == 1
        with pytest.raises(EnrollmentLinkInvalid):
            app.enrollment_links.redeem(token, None, None)
