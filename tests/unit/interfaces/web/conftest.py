"""Pages through the ASGI app (a TestClient on https://, so Secure cookies travel), over
SQLite and the fake clock; the browser tests (tests/browser/) drive a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def pages(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app), base_url="https://mfa.test", follow_redirects=False) as client:
        yield client


@pytest.fixture
def alice(app: App) -> builders.Enrolled:
    """A tenant admin of ``default`` with a password and an authenticator app."""
    enrolled = builders.enrolled_user(app, "alice")
    app.passwords.set_password(OPERATOR, "default", "alice", PASSWORD)
    app.admin_grants.grant(OPERATOR, "default", "alice", Role.TENANT_ADMIN)
    return enrolled


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no form token on the page"
    return found.group(1)


def password_step(
    client: TestClient, user: str = "alice", password: str = PASSWORD, tenant: str = "default"
) -> object:
    token = csrf(client.get("/admin/signin").text)
    return client.post(
        "/admin/signin",
        data={"csrf": token, "tenant": tenant, "user": user, "password": password},
    )


def verify(client: TestClient, **form: str) -> object:
    token = csrf(client.get("/admin/signin/verify").text)
    return client.post("/admin/signin/verify", data={"csrf": token, **form})


def sign_in(client: TestClient, app: App, enrolled: builders.Enrolled) -> None:
    """Password, then the app's current code: signed in at /admin."""
    first = password_step(client)
    assert first.status_code == 303, first.text  # type: ignore[attr-defined]
    code = enrolled.totp(app.deps.clock.now())
    done = verify(client, action="code", code=code)
    assert done.headers["location"] == "/admin", done.text  # type: ignore[attr-defined]
