"""A user's recent sign-ins, and "not me": recorded once, alerted once, locking the user
only when the tenant says so."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.entities import Integration
from twostep.domain.errors import AuditEventNotFound
from twostep.domain.results import Reason, Result
from twostep.services.admin import OPERATOR
from twostep.services.self_service import Me
from twostep.services.signin_reports import MAX_RECENT, SignInReports
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")


class Alerts:
    """An AlertSink that keeps what it was told to post."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Mapping[str, object]]] = []

    def send(self, url: str, alert: Mapping[str, object]) -> None:
        self.sent.append((url, dict(alert)))


def me_of(app: App, name: str = "alice") -> Me:
    user = app.admin.get_user(OPERATOR, "default", name)
    return Me(user.tenant_id, "default", user.id, user.name, "198.51.100.4")


def sign_in(app: App, vpn: Integration, user: str, code: str = "000000") -> None:
    request = SignInRequest(user=user, integration=vpn, code=code, client_ip="203.0.113.9")
    app.signin.sign_in(request)


@pytest.fixture
def vpn(app: App) -> Integration:
    builders.enrolled_user(app, "alice")
    builders.enrolled_user(app, "bob")
    return builders.integration(app)[0]


class TestRecent:
    def test_the_users_own_events_newest_first(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        for user in ("alice", "bob", "alice"):
            sign_in(app, vpn, user)
            clock.advance(1)
        recent = app.signin_reports.recent(me_of(app))
        assert [r.event.user for r in recent] == ["alice", "alice"]
        assert recent[0].event.at > recent[1].event.at
        assert recent[0].event.client_ip == "203.0.113.9" and not recent[0].reported

    def test_bounded(self, app: App, vpn: Integration) -> None:
        for _ in range(MAX_RECENT + 5):
            sign_in(app, vpn, "alice")
        assert len(app.signin_reports.recent(me_of(app), limit=1000)) == MAX_RECENT
        assert len(app.signin_reports.recent(me_of(app), limit=3)) == 3


class TestNotMe:
    def reports(self, app: App, alerts: Alerts) -> SignInReports:
        return SignInReports(app.deps, alerts)

    def test_recorded_alerted_and_trailed_once(
        self, app: App, vpn: Integration, caplog: pytest.LogCaptureFixture
    ) -> None:
        app.admin.update_settings(
            OPERATOR, "default", {"alert_webhook_url": "https://alerts.example/hook"}
        )
        sign_in(app, vpn, "alice")
        [recent] = app.signin_reports.recent(me_of(app))
        alerts = Alerts()
        with caplog.at_level(logging.WARNING, logger="twostep.challenges"):
            first = self.reports(app, alerts).report(me_of(app), recent.event.event_id)
            again = self.reports(app, alerts).report(me_of(app), recent.event.event_id)
        assert (first.first, again.first) == (True, False)
        assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
        assert "ALERT sign-in reported" in caplog.records[0].message
        [(url, alert)] = alerts.sent
        assert url == "https://alerts.example/hook"
        assert alert["alert"] == "signin_reported" and alert["event_id"] == recent.event.event_id
        assert alert["user"] == "alice" and alert["user_locked"] is False
        trail = app.admin_events.query(OPERATOR, "default", action="signin.report")
        assert [(e.actor, e.target) for e in trail] == [("self", f"alice/{recent.event.event_id}")]
        assert app.signin_reports.recent(me_of(app))[0].reported

    def test_by_default_it_does_not_lock(self, app: App, vpn: Integration) -> None:
        sign_in(app, vpn, "alice")
        [recent] = app.signin_reports.recent(me_of(app))
        assert not app.signin_reports.report(me_of(app), recent.event.event_id).locked
        assert app.admin.get_user(OPERATOR, "default", "alice").locked_until is None

    def test_with_not_me_locks_user_the_next_sign_ins_are_refused(
        self, app: App, vpn: Integration
    ) -> None:
        app.admin.update_settings(OPERATOR, "default", {"not_me_locks_user": True})
        sign_in(app, vpn, "alice")
        [recent] = app.signin_reports.recent(me_of(app))
        assert app.signin_reports.report(me_of(app), recent.event.event_id).locked
        decision = app.signin.sign_in(SignInRequest(user="alice", integration=vpn, code="1"))
        assert (decision.result, decision.reason) == (Result.REJECT, Reason.USER_LOCKED)
        app.admin.unlock_user(OPERATOR, "default", "alice")

    def test_another_users_sign_in_cannot_be_reported(self, app: App, vpn: Integration) -> None:
        sign_in(app, vpn, "bob")
        [bobs] = app.signin_reports.recent(me_of(app, "bob"))
        with pytest.raises(AuditEventNotFound):
            app.signin_reports.report(me_of(app), bobs.event.event_id)
        with pytest.raises(AuditEventNotFound):
            app.signin_reports.report(me_of(app), "not-an-event")
        assert not app.signin_reports.recent(me_of(app, "bob"))[0].reported

    def test_sent_at_once_it_is_recorded_once(self, app: App, vpn: Integration) -> None:
        sign_in(app, vpn, "alice")
        [recent] = app.signin_reports.recent(me_of(app))
        alerts = Alerts()
        reports = self.reports(app, alerts)
        app.admin.update_settings(OPERATOR, "default", {"alert_webhook_url": "https://a.example/"})

        def report(_: int) -> bool:
            return reports.report(me_of(app), recent.event.event_id).first

        with ThreadPoolExecutor(4) as pool:
            firsts = list(pool.map(report, range(4)))
        assert firsts.count(True) == 1
        assert len(alerts.sent) == 1
        trail = app.admin_events.query(OPERATOR, "default", action="signin.report")
        assert len(trail) == 1
