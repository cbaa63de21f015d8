"""The management portal's forms for issue 16's skips: a one-time bypass on a user's page
(help desk and tenant admins, CSRF-checked, on the admin trail) and an integration's flag
to vouch for the client addresses it sends."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import builders
from tests.unit.interfaces.web.portal.conftest import SignIn, post
from tests.unit.interfaces.web.portal.test_settings import form_of
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR

USER = "/admin/tenants/default/users/alice"
INTEGRATIONS = "/admin/tenants/default/integrations"
SETTINGS = "/admin/tenants/default/settings"


def test_a_help_desk_grants_and_cancels_a_bypass(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.enrolled_user(app, "alice")
    admin_as(Role.HELP_DESK)
    page = pages.get(USER).text
    assert f'action="{USER}/bypass"' in page and "Cancel the bypass" not in page
    done = post(pages, USER, USER + "/bypass", seconds="900")
    assert done.headers["location"] == USER + "?done=bypass"  # type: ignore[attr-defined]
    alice = app.admin.get_user(OPERATOR, "default", "alice")
    assert alice.bypass_until == app.deps.clock.now() + 900
    shown = pages.get(USER + "?done=bypass").text
    assert "skips the second factor, once" in shown and "Open until" in shown
    post(pages, USER, USER + "/cancel-bypass")
    assert app.admin.get_user(OPERATOR, "default", "alice").bypass_until is None
    (granted,) = app.admin_events.query(OPERATOR, "default", action="user.bypass")
    (cancelled,) = app.admin_events.query(OPERATOR, "default", action="user.bypass_cancel")
    assert (granted.interface, granted.target, cancelled.interface) == ("web", "alice", "web")


def test_a_window_outside_its_bounds_is_refused(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.enrolled_user(app, "alice")
    admin_as(Role.TENANT_ADMIN)
    for seconds in ("1801", "0", "ten", ""):
        refused = post(pages, USER, USER + "/bypass", seconds=seconds)
        assert refused.status_code == 422, seconds  # type: ignore[attr-defined]
    assert app.admin.get_user(OPERATOR, "default", "alice").bypass_until is None


def test_a_bypass_without_the_pages_token_is_refused(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.enrolled_user(app, "alice")
    admin_as(Role.HELP_DESK)
    refused = pages.post(USER + "/bypass", data={"csrf": "forged", "seconds": "300"})
    assert refused.status_code == 403
    assert app.admin.get_user(OPERATOR, "default", "alice").bypass_until is None


def test_an_integration_is_flagged_and_unflagged(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    app.admin.create_integration(OPERATOR, "default", "Intranet")
    admin_as(Role.TENANT_ADMIN)
    assert "Vouches for client addresses" in pages.get(INTEGRATIONS).text
    done = post(pages, INTEGRATIONS, INTEGRATIONS + "/trusted", name="Intranet", trusted="on")
    assert done.headers["location"] == INTEGRATIONS + "?done=integration_changed"  # type: ignore[attr-defined]
    (found,) = app.admin.list_integrations(OPERATOR, "default")
    assert found.trusted_client_addresses is True
    assert "Stop trusting" in pages.get(INTEGRATIONS).text
    post(pages, INTEGRATIONS, INTEGRATIONS + "/trusted", name="Intranet")
    (found,) = app.admin.list_integrations(OPERATOR, "default")
    assert found.trusted_client_addresses is False
    changes = [e.changes for e in app.admin_events.query(OPERATOR, "default")]
    assert {"trusted_client_addresses": [False, True]} in changes


def test_a_help_desk_cannot_flag_an_integration(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    app.admin.create_integration(OPERATOR, "default", "Intranet")
    admin_as(Role.HELP_DESK)
    refused = post(pages, USER, INTEGRATIONS + "/trusted", name="Intranet", trusted="on")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    (found,) = app.admin.list_integrations(OPERATOR, "default")
    assert found.trusted_client_addresses is False


def test_the_settings_page_sets_trusted_networks_one_per_line(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    page = pages.get(SETTINGS).text
    assert 'name="trusted_networks"' in page and 'name="trusted_networks_enabled"' in page
    sent = form_of(page)
    sent["trusted_networks_enabled"] = "on"
    sent["trusted_networks"] = "10.0.0.0/8\n2001:DB8::/32"
    assert pages.post(SETTINGS, data=sent).status_code == 303
    access = app.admin.get_tenant(OPERATOR, "default").settings.access
    assert access.trusted_networks_enabled
    assert access.trusted_networks == ("10.0.0.0/8", "2001:db8::/32")
    sent = form_of(pages.get(SETTINGS).text)
    sent["trusted_networks"] = "10.0.0.1/8"
    refused = pages.post(SETTINGS, data=sent)
    assert refused.status_code == 422
    assert 'id="e-trusted_networks"' in refused.text
