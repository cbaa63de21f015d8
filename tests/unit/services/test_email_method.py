"""The email method: a 6-digit code by email, with the rules of a texted code (a keyed
digest stored, one use, a few attempts, resends, the delivery limits, lockout)."""

from __future__ import annotations

import re
from dataclasses import asdict

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.phones import outbox, sent_to
from twostep.bootstrap import App
from twostep.domain.entities import Integration, MethodKind, MethodStatus
from twostep.domain.errors import InvalidInput, ResendRefused
from twostep.domain.results import Decision, Reason, Result
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def vpn(app: App) -> Integration:
    return builders.integration(app)[0]


@pytest.fixture
def alice(app: App) -> None:
    builders.user(app, "alice")
    app.enroll.enroll(
        OPERATOR, "default", "alice", MethodKind.EMAIL, {"email": "Alice@Example.COM"}
    )


def start(app: App, vpn: Integration, **kw: object) -> Decision:
    return app.signin.sign_in(
        SignInRequest(user="alice", integration=vpn, client_ip="203.0.113.7", **kw)  # type: ignore[arg-type]
    )


def code_in(app: App, tx: str) -> str:
    found = re.search(r"\b(\d{6})\b", sent_to(app, tx)["body"])
    assert found
    return found.group(1)


class TestEnrollment:
    @pytest.mark.usefixtures("alice")
    def test_an_address_is_active_at_once_with_its_domain_in_lower_case(self, app: App) -> None:
        [method] = app.enroll.list(OPERATOR, "default", "alice")
        assert (method.kind, method.status) == (MethodKind.EMAIL, MethodStatus.ACTIVE)
        assert method.email == "Alice@example.com"
        assert app.admin.get_user(OPERATOR, "default", "alice").default_method_id == method.id

    @pytest.mark.parametrize(
        "address",
        [
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "alice@example.com\r\nBcc: eve@example.net",
            "Alice <alice@example.com>",
            "alice@example.com, bob@example.com",
            "a b@example.com",
        ],
    )
    def test_anything_but_one_plain_address_is_refused(self, app: App, address: str) -> None:
        builders.user(app, "alice")
        with pytest.raises(InvalidInput) as refused:
            app.enroll.enroll(OPERATOR, "default", "alice", MethodKind.EMAIL, {"email": address})
        assert refused.value.field == "email"
        assert app.enroll.list(OPERATOR, "default", "alice") == []


@pytest.mark.usefixtures("alice")
class TestSignIn:
    def test_the_code_goes_by_email_and_the_sign_in_shows_where(
        self, app: App, vpn: Integration
    ) -> None:
        decision = start(app, vpn)
        assert decision.result is Result.CHALLENGE
        assert decision.prompt == "Enter the code sent to A\u2022\u2022\u2022@example.com"
        sent = sent_to(app, decision.transaction_id or "")
        assert sent["channel"] == "email" and sent["to"] == "Alice@example.com"
        assert sent["subject"] == "Your Twostep verification code"
        assert "expires in 5 min" in sent["body"]

    def test_the_right_code_accepts_once(self, app: App, vpn: Integration) -> None:
        tx = start(app, vpn).transaction_id or ""
        code = code_in(app, tx)
        assert app.delivered.submit(vpn, tx, code).result is Result.ACCEPT
        again = app.delivered.submit(vpn, tx, code)
        assert (again.result, again.reason) == (Result.ACCEPT, None)  # told, not accepted
        events = [asdict(e) for e in app.audit.query(OPERATOR, "default", limit=100)]
        assert [(e["result"], e["detail"]) for e in events][-2:] == [
            ("accept", None),
            ("reject", "answered again"),
        ]
        assert all(e["phone"] is None for e in events)  # an address is not a phone number
        assert code not in str(events)

    def test_three_wrong_codes_spend_it_and_count_toward_lockout(
        self, app: App, vpn: Integration
    ) -> None:
        tx = start(app, vpn).transaction_id or ""
        code = code_in(app, tx)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        reasons = [app.delivered.submit(vpn, tx, wrong).reason for _ in range(3)]
        assert reasons == [Reason.INVALID_CODE, Reason.INVALID_CODE, Reason.TOO_MANY_ATTEMPTS]
        assert app.delivered.submit(vpn, tx, code).reason is Reason.TOO_MANY_ATTEMPTS
        assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 4  # start + 3

    def test_the_code_expires_with_email_code_timeout(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        app.admin.update_settings(OPERATOR, "default", {"email_code_timeout": 60})
        tx = start(app, vpn).transaction_id or ""
        clock.advance(61)
        assert app.delivered.submit(vpn, tx, code_in(app, tx)).reason is Reason.TIMEOUT

    def test_a_resend_brings_a_new_code_and_the_old_one_stops(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        tx = start(app, vpn).transaction_id or ""
        first = code_in(app, tx)
        clock.advance(31)
        assert app.delivered.resend(vpn, tx).result is Result.CHALLENGE
        second = code_in(app, tx)
        assert len([r for r in outbox(app) if r.get("reference") == tx]) == 2
        if first != second:
            assert app.delivered.submit(vpn, tx, first).reason is Reason.INVALID_CODE
        assert app.delivered.submit(vpn, tx, second).result is Result.ACCEPT

    def test_emails_count_against_the_users_delivery_limit(
        self, app: App, vpn: Integration
    ) -> None:
        app.admin.update_settings(OPERATOR, "default", {"user_delivery_limit": 2})
        assert start(app, vpn).result is Result.CHALLENGE
        assert start(app, vpn).result is Result.CHALLENGE
        refused = start(app, vpn)
        assert (refused.result, refused.reason) == (Result.REJECT, Reason.RATE_LIMITED)

    def test_a_client_that_cannot_prompt_gets_no_email(self, app: App, vpn: Integration) -> None:
        refused = start(app, vpn, can_prompt=False)
        assert (refused.result, refused.reason) == (Result.REJECT, Reason.METHOD_NOT_SUPPORTED)
        assert outbox(app) == []

    def test_the_email_goes_in_the_users_language(self, app: App, vpn: Integration) -> None:
        app.admin.update_settings(OPERATOR, "default", {"language": "de"})
        tx = start(app, vpn).transaction_id or ""
        assert sent_to(app, tx)["subject"] == "Ihr Twostep-Bestätigungscode"


def test_resend_refusals_are_the_texts_ones(app: App, vpn: Integration) -> None:
    builders.user(app, "alice")
    app.enroll.enroll(OPERATOR, "default", "alice", MethodKind.EMAIL, {"email": "a@example.com"})
    tx = start(app, vpn).transaction_id or ""
    with pytest.raises(ResendRefused):  # resent too soon
        app.delivered.resend(vpn, tx)
