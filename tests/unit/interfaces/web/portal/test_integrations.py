"""Integrations and RADIUS clients: a new key or secret is shown on the answer to the post
that made it, and never again; revoke and delete."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.unit.interfaces.web.portal.conftest import SignIn, post
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR

PAGE = "/admin/tenants/default/integrations"


def shown_secret(html: str) -> str:
    found = re.search(r'<code id="secret">([^<]+)</code>', html)
    assert found is not None, html
    return found.group(1)


def test_a_new_integrations_key_is_shown_once_and_works(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    made = post(pages, PAGE, PAGE, name="Intranet")
    assert made.status_code == 200  # type: ignore[attr-defined]
    key = shown_secret(made.text)  # type: ignore[attr-defined]
    assert made.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
    found = app.admin.authenticate_integration(key)
    assert found is not None and found.name == "Intranet"
    listed = pages.get(PAGE).text
    assert "Intranet" in listed and key not in listed
    (event,) = app.admin_events.query(OPERATOR, "default", action="integration.create")
    assert event.interface == "web" and key not in str(event.changes)


def test_an_integration_is_revoked(app: App, pages: TestClient, admin_as: SignIn) -> None:
    app.admin.create_integration(OPERATOR, "default", "Old app")
    admin_as(Role.TENANT_ADMIN)
    done = post(pages, PAGE, PAGE + "/revoke", name="Old app")
    assert done.headers["location"] == PAGE + "?done=revoked"  # type: ignore[attr-defined]
    (integration,) = app.admin.list_integrations(OPERATOR, "default")
    assert integration.revoked_at is not None
    assert "Revoked" in pages.get(PAGE).text


def test_a_radius_clients_secret_is_shown_once(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    made = post(pages, PAGE, PAGE + "/radius", name="vpn", network="192.0.2.0/24", push_wait="25")
    secret = shown_secret(made.text)  # type: ignore[attr-defined]
    assert len(secret) >= 20
    listed = pages.get(PAGE).text
    assert "192.0.2.0/24" in listed and secret not in listed
    post(pages, PAGE, PAGE + "/radius/delete", name="vpn")
    assert app.radius_clients.list(OPERATOR, "default") == []


def test_a_refused_name_is_a_page_with_the_code(pages: TestClient, admin_as: SignIn) -> None:
    admin_as(Role.TENANT_ADMIN)
    post(pages, PAGE, PAGE, name="twice")
    again = post(pages, PAGE, PAGE, name="twice")
    assert again.status_code == 409 and "integration_exists" in again.text  # type: ignore[attr-defined]


def test_a_radius_clients_mfa_server_options_are_set_and_its_upstream_secrets_never_shown(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    post(pages, PAGE, PAGE + "/radius", name="vpn", network="192.0.2.0/24", push_wait="25")
    secret = "upstream-" + "s" * 30
    saved = post(
        pages,
        PAGE,
        PAGE + "/radius/options",
        name="vpn",
        oath_fallback="on",
        primary="radius",
        upstreams=f"127.0.0.1:18120:2 {secret}\n\n[::1] {secret}",
    )
    assert saved.status_code == 303  # type: ignore[attr-defined]
    [client] = app.radius_clients.list(OPERATOR, "default")
    assert (client.require_user_match, client.oath_fallback, client.primary.value) == (
        False,
        True,
        "radius",
    )
    assert [(u.address, u.port, u.timeout) for u in client.upstreams] == [
        ("127.0.0.1", 18120, 2.0),
        ("::1", 1812, 5.0),
    ]
    page = pages.get(PAGE).text
    assert "Options of vpn" in page and secret not in page
    # Blank: the servers and their secrets are kept; a primary of none with no user match
    # is refused (an unknown user would be accepted on nothing), and nothing changes.
    post(
        pages, PAGE, PAGE + "/radius/options", name="vpn", require_user_match="on", primary="radius"
    )
    [client] = app.radius_clients.list(OPERATOR, "default")
    assert len(client.upstreams) == 2 and client.require_user_match and not client.oath_fallback
    refused = post(pages, PAGE, PAGE + "/radius/options", name="vpn", primary="none")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert app.radius_clients.list(OPERATOR, "default")[0].primary.value == "radius"
