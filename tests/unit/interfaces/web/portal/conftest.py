"""The management portal's pages through the ASGI app (parent conftest: ``pages``, a
TestClient on https://): admins of each role signed in with a password and a code."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.unit.interfaces.web.conftest import PASSWORD, csrf, password_step, verify
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR

SignIn = Callable[..., TestClient]


@pytest.fixture
def admin_as(app: App, pages: TestClient) -> SignIn:
    """``admin_as(role, name=..., tenant=...)``: a user of ``tenant`` granted ``role``
    (over ``tenant``), signed in on ``pages``."""

    def sign_in(role: Role, name: str = "root", tenant: str = "default") -> TestClient:
        enrolled = builders.enrolled_user(app, name) if tenant == "default" else None
        if enrolled is None:
            builders.user(app, name, tenant=tenant)
            enrolled = builders.app_code(app, name, tenant=tenant)
        app.passwords.set_password(OPERATOR, tenant, name, PASSWORD)
        app.admin_grants.grant(OPERATOR, tenant, name, role)
        first = password_step(pages, user=name, tenant=tenant)
        assert first.status_code == 303, first.text  # type: ignore[attr-defined]
        done = verify(pages, action="code", code=enrolled.totp(app.deps.clock.now()))
        assert done.headers["location"] == "/admin", done.text  # type: ignore[attr-defined]
        return pages

    return sign_in


def post(client: TestClient, page: str, to: str, **form: str) -> object:
    """A form post with the token of ``page`` (as a browser would have it)."""
    token = csrf(client.get(page).text)
    return client.post(to, data={"csrf": token, **form})
