"""The second-factor step's out-of-band methods: a push shows the number to match and waits
for the phone (the status the page's script polls); a text message sends a code to type,
and sends a new one on request."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.support import phones
from tests.support.devices import FakeDevice
from tests.support.fakes import FakeClock
from tests.unit.interfaces.web.conftest import PASSWORD, password_step, verify
from twostep.bootstrap import App
from twostep.domain.entities import MethodKind, Role
from twostep.domain.ports.users import NewUser
from twostep.services.admin import OPERATOR


def an_admin(app: App, name: str) -> None:
    app.admin.create_user(OPERATOR, "default", NewUser(name=name))
    app.passwords.set_password(OPERATOR, "default", name, PASSWORD)
    app.admin_grants.grant(OPERATOR, "default", name, Role.TENANT_ADMIN)


@pytest.fixture
def phone(app: App) -> FakeDevice:
    an_admin(app, "dana")
    return FakeDevice.new().activate(app, "dana")


def approve(app: App, phone: FakeDevice, number: int | None) -> None:
    device = app.devices.list(OPERATOR, "default", "dana")[0]
    request = app.push.requests(device)[0]
    tx = request.transaction_id
    signature = phone.answer(tx, "approve", number, request.nonce)
    app.push.answer(device, tx, "approve", number, request.nonce, signature)


def test_a_push_shows_the_number_and_signs_in_once_approved(
    app: App, pages: TestClient, phone: FakeDevice
) -> None:
    password_step(pages, user="dana")
    page = pages.get("/admin/signin/verify").text
    assert "/static/poll.js" in page and 'data-status="/admin/signin/status"' in page
    [request] = app.push.requests(app.devices.list(OPERATOR, "default", "dana")[0])
    assert request.number_required  # the page shows the number: the phone must match it
    found = app.challenges.find(request.transaction_id)
    assert found is not None and found.challenge.number is not None
    number = found.challenge.number
    assert f'<p class="number" aria-live="polite">{number}</p>' in page
    early = verify(pages, action="check")
    assert "Still waiting for your answer" in early.text
    approve(app, phone, number)
    assert pages.get("/admin/signin/status").json() == {"done": True}
    done = verify(pages, action="check")
    assert (done.status_code, done.headers["location"]) == (303, "/admin")
    events = app.audit.query(OPERATOR, "default", user="dana")
    assert [(e.result, e.method, e.integration) for e in events] == [
        ("challenge", "app_push", "pages"),
        ("accept", "app_push", "pages"),
    ]


def test_a_denied_push_offers_the_methods_again(
    app: App, pages: TestClient, phone: FakeDevice
) -> None:
    password_step(pages, user="dana")
    device = app.devices.list(OPERATOR, "default", "dana")[0]
    request = app.push.requests(device)[0]
    tx = request.transaction_id
    app.push.answer(
        device, tx, "deny", None, request.nonce, phone.answer(tx, "deny", None, request.nonce)
    )
    denied = verify(pages, action="check")
    assert denied.status_code == 401 and "denied on the phone" in denied.text
    assert 'id="check"' not in pages.get("/admin/signin/verify").text  # nothing to wait for
    again = verify(pages, action="switch", method="app_push")
    assert again.status_code == 303
    assert 'id="check"' in pages.get("/admin/signin/verify").text


def test_a_text_message_code_and_a_new_one_on_request(
    app: App, pages: TestClient, clock: FakeClock
) -> None:
    an_admin(app, "erin")
    app.enroll.enroll_phone(OPERATOR, "default", "erin", MethodKind.SMS, phones.MOBILE)
    password_step(pages, user="erin")
    page = pages.get("/admin/signin/verify").text
    assert "Code by text message" in page and "Send a new code" in page
    [first] = phones.outbox(app)
    old_code = re.findall(r"\b\d{6}\b", first["body"])[0]
    too_soon = verify(pages, action="resend")
    assert too_soon.status_code == 409 and "cannot be sent again yet" in too_soon.text
    clock.advance(31)  # past resend_interval
    resent = verify(pages, action="resend")
    assert resent.status_code == 303
    assert "A new code was sent" in pages.get("/admin/signin/verify").text
    new_code = phones.code_of(app, first["reference"])
    assert new_code != old_code
    stale = verify(pages, action="code", code=old_code)
    assert stale.status_code == 401 and "That code is not right" in stale.text
    done = verify(pages, action="code", code=new_code)
    assert done.headers["location"] == "/admin"


def test_a_code_method_is_not_offered_again_beside_its_own_field(
    app: App, pages: TestClient, alice: object
) -> None:
    password_step(pages)  # alice: an authenticator app only
    page = pages.get("/admin/signin/verify").text
    assert "Code from an authenticator app" in page
    assert "Use another method" not in page  # nothing else to switch to


def test_a_text_is_offered_again_to_send_a_new_one(app: App, pages: TestClient) -> None:
    an_admin(app, "erin")
    app.enroll.enroll_phone(OPERATOR, "default", "erin", MethodKind.SMS, phones.MOBILE)
    password_step(pages, user="erin")
    page = pages.get("/admin/signin/verify").text
    assert "Use another method" in page and 'value="sms"' in page
