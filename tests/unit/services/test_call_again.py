"""Call again: a pending call placed once more on the same transaction, through the same
service call as a text's resend (DeliveredChallenges.resend), with the same limits
(resend_interval, max_sends, the delivery limits). Its PIN tries are kept: calling again
buys no more guesses."""

from __future__ import annotations

import pytest

from tests.support.fakes import FakeClock
from tests.support.phones import LANDLINE, outbox, signed
from tests.unit.services.test_challenges import phone, settings, start, vpn
from twostep.bootstrap import App
from twostep.domain.entities import Integration, MethodKind
from twostep.domain.errors import RateLimited, ResendRefused
from twostep.domain.results import Reason, Result

pytestmark = pytest.mark.usefixtures("backend")
__all__ = ["vpn"]


def call(app: App, tx: str, digits: str | None, status: str | None = None) -> str:
    """The phone's keys (or the call's end) as the outbox gateway's webhook reports them."""
    data: dict[str, object] = {"reference": tx}
    if digits is not None:
        data["digits"] = digits
    if status is not None:
        data["status"] = status
    answer = app.delivered.call_event("outbox", signed(app, data))
    return "" if answer is None else answer.body.decode()


def calls_of(app: App, tx: str) -> list[dict[str, object]]:
    return [r for r in outbox(app) if r.get("reference") == tx and r.get("channel") == "voice"]


def test_a_pending_call_is_placed_again_after_the_interval(
    app: App, vpn: Integration, clock: FakeClock
) -> None:
    phone(app, MethodKind.VOICE, LANDLINE)
    tx = start(app, vpn).transaction_id or ""
    with pytest.raises(ResendRefused):
        app.delivered.resend(vpn, tx)  # too soon
    clock.advance(30)
    again = app.delivered.resend(vpn, tx)
    assert (again.result, again.transaction_id) == (Result.CHALLENGE, tx)
    assert len(calls_of(app, tx)) == 2
    assert "approved" in call(app, tx, "")
    assert app.challenges.outcome(vpn, tx)[0].result is Result.ACCEPT


def test_at_most_max_sends_calls(app: App, vpn: Integration, clock: FakeClock) -> None:
    phone(app, MethodKind.VOICE, LANDLINE)
    tx = start(app, vpn).transaction_id or ""
    for _ in range(2):
        clock.advance(30)
        app.delivered.resend(vpn, tx)
    clock.advance(30)
    with pytest.raises(ResendRefused):
        app.delivered.resend(vpn, tx)
    assert len(calls_of(app, tx)) == 3


def test_a_call_again_counts_against_the_delivery_limit(
    app: App, vpn: Integration, clock: FakeClock
) -> None:
    settings(app, user_delivery_limit=1)
    phone(app, MethodKind.VOICE, LANDLINE)
    tx = start(app, vpn).transaction_id or ""
    clock.advance(30)
    with pytest.raises(RateLimited):
        app.delivered.resend(vpn, tx)


def test_a_call_that_was_decided_is_not_placed_again(
    app: App, vpn: Integration, clock: FakeClock
) -> None:
    phone(app, MethodKind.VOICE, LANDLINE)
    tx = start(app, vpn).transaction_id or ""
    call(app, tx, None, status="no-answer")
    clock.advance(30)
    with pytest.raises(ResendRefused):
        app.delivered.resend(vpn, tx)


def test_calling_again_keeps_the_pin_tries(app: App, vpn: Integration, clock: FakeClock) -> None:
    settings(app, voice_pin_attempts=2)
    phone(app, MethodKind.VOICE, LANDLINE, pin="2468")
    tx = start(app, vpn).transaction_id or ""
    call(app, tx, "1111")  # one wrong PIN: one try left
    assert app.challenges.outcome(vpn, tx)[0].result is Result.CHALLENGE
    clock.advance(30)
    app.delivered.resend(vpn, tx)
    call(app, tx, "2222")  # the second: the last try
    assert app.challenges.outcome(vpn, tx)[0].reason is Reason.INVALID_PIN
    assert app.challenges.outcome(vpn, tx)[0].result is Result.REJECT
