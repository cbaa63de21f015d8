"""The management portal's sign-in never skips the second factor: a help desk's one-time
bypass or a trusted network covering every address does not turn a tenant admin's sign-in
at /admin into a password alone. The bypass stays open (it was not spent here)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import builders
from tests.unit.interfaces.web.conftest import PASSWORD, csrf, password_step, verify
from twostep.bootstrap import App
from twostep.services.admin import OPERATOR


def test_a_bypass_still_asks_an_admin_for_the_second_factor(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    app.bypasses.grant(OPERATOR, "default", "alice")
    first = password_step(pages)
    assert first.headers["location"] == "/admin/signin/verify"  # type: ignore[attr-defined]
    assert pages.get("/admin").status_code == 303  # not signed in on the password alone
    done = verify(pages, action="code", code=alice.totp(app.deps.clock.now()))
    assert done.headers["location"] == "/admin"  # type: ignore[attr-defined]
    user = app.admin.get_user(OPERATOR, "default", "alice")
    assert user.bypass_pending(app.deps.clock.now())  # still open: /admin did not spend it
    reasons = [e.reason for e in app.audit.query(OPERATOR, "default", user="alice")]
    assert "bypass" not in reasons


def test_a_trusted_network_still_asks_an_admin_for_the_second_factor(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    app.admin.update_settings(
        OPERATOR,
        "default",
        {"trusted_networks_enabled": True, "trusted_networks": ["0.0.0.0/0", "::/0"]},
    )
    first = password_step(pages)
    assert first.headers["location"] == "/admin/signin/verify"  # type: ignore[attr-defined]
    assert pages.get("/admin").status_code == 303


def test_the_same_bypass_lets_the_user_into_the_self_service_portal(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    """The control: the bypass is real, and honoured where a user signs in to their own
    account (the self-service portal's integration may skip)."""
    app.bypasses.grant(OPERATOR, "default", "alice")
    token = csrf(pages.get("/my/signin").text)
    done = pages.post(
        "/my/signin",
        data={"csrf": token, "tenant": "default", "user": "alice", "password": PASSWORD},
    )
    assert done.headers["location"] == "/my"  # type: ignore[attr-defined]
    assert not app.admin.get_user(OPERATOR, "default", "alice").bypass_pending(app.deps.clock.now())
