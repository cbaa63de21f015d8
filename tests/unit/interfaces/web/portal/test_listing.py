"""The flows the list pages share (portal/listing.py), through the pages that use them: every
page and action of integrations and gateways checks the role, every post its form token
before anything else; an action on a row goes back to its list with its notice; a secret is
shown on the answer that made it and nowhere after; a log page links its next page and the
download of the same filters, which the same role may fetch."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from tests.unit.interfaces.web.conftest import csrf
from tests.unit.interfaces.web.portal.conftest import SignIn, post
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR
from twostep.services.radius_clients import NewRadiusClient

T = "/admin/tenants/default"
AUDIT = T + "/audit"  # a page a help desk may see: its form token serves the posts below
ACTIONS = [
    ("GET", T + "/integrations", {}),
    ("POST", T + "/integrations", {"name": "sneaky"}),
    ("POST", T + "/integrations/revoke", {"name": "Intranet"}),
    ("POST", T + "/integrations/trusted", {"name": "Intranet", "trusted": "on"}),
    ("POST", T + "/integrations/radius", {"name": "r", "network": "192.0.2.9"}),
    ("POST", T + "/integrations/radius/delete", {"name": "vpn"}),
    ("POST", T + "/integrations/radius/options", {"name": "vpn", "oath_fallback": "on"}),
    ("GET", T + "/gateways", {}),
    ("POST", T + "/gateways", {"kind": "outbox", "name": "sneaky"}),
    ("GET", T + "/gateways/main/edit", {}),
    ("POST", T + "/gateways/main/edit", {"kind": "outbox"}),
    ("POST", T + "/gateways/delete", {"name": "main"}),
]
POSTS = [(path, form) for method, path, form in ACTIONS if method == "POST"]


@pytest.fixture
def rows(app: App) -> None:
    """An integration, a RADIUS client and a gateway for the actions to aim at."""
    app.admin.create_integration(OPERATOR, "default", "Intranet")
    new = NewRadiusClient(name="vpn", network="192.0.2.0/24")
    app.radius_clients.create(OPERATOR, "default", new)
    app.gateways.add(OPERATOR, "default", "main", "http", {"url": "https://sms.example.com/send"})


def state(app: App) -> object:
    """Everything the actions above could change."""
    return (
        app.admin.list_integrations(OPERATOR, "default"),
        app.radius_clients.list(OPERATOR, "default"),
        app.gateways.list(OPERATOR, "default"),
    )


def test_a_help_desk_reaches_no_page_or_action_of_integrations_or_gateways(
    app: App, pages: TestClient, admin_as: SignIn, rows: None
) -> None:
    admin_as(Role.HELP_DESK)
    before = state(app)
    token = csrf(pages.get(AUDIT).text)
    for method, path, form in ACTIONS:
        answer = pages.request(method, path, data={"csrf": token, **form} if form else None)
        assert answer.status_code == 403, (method, path)
        assert "Your role does not allow this page." in answer.text
    assert state(app) == before


def test_a_post_without_its_form_token_is_refused_before_anything_else(
    app: App, pages: TestClient, admin_as: SignIn, rows: None
) -> None:
    admin_as(Role.TENANT_ADMIN)
    before = state(app)
    for path, form in POSTS:
        assert pages.post(path, data=form).status_code == 403, path
        assert pages.post(path, data={"csrf": "0" * 32, **form}).status_code == 403, path
    assert state(app) == before


@pytest.mark.parametrize(
    ("listed", "action", "name", "notice"),
    [
        ("integrations", "revoke", "Intranet", "revoked"),
        ("integrations", "radius/delete", "vpn", "radius_deleted"),
        ("gateways", "delete", "main", "gateway_deleted"),
    ],
)
def test_an_action_on_a_row_goes_back_to_its_list_with_its_notice(
    pages: TestClient,
    admin_as: SignIn,
    rows: None,
    listed: str,
    action: str,
    name: str,
    notice: str,
) -> None:
    admin_as(Role.TENANT_ADMIN)
    listed, action = f"{T}/{listed}", f"{T}/{listed}/{action}"
    done = post(pages, listed, action, name=name)
    assert done.headers["location"] == f"{listed}?done={notice}"  # type: ignore[attr-defined]
    unknown = post(pages, listed, action, name="nobody")  # the refusal's page
    assert unknown.status_code == 404  # type: ignore[attr-defined]
    assert "location" not in unknown.headers  # type: ignore[attr-defined]


def test_a_secret_is_shown_on_the_answer_that_made_it_and_nowhere_after(
    pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    made = post(pages, T + "/integrations", T + "/integrations", name="Once")
    page = made.text  # type: ignore[attr-defined]
    found = re.search(r'<code id="secret">([^<]+)</code>', page)
    assert found is not None
    assert made.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
    assert f'href="{T}/integrations"' in page  # back to its list
    assert found.group(1) not in pages.get(T + "/integrations").text


def test_a_log_page_links_its_next_page_and_the_download_of_the_same_filters(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    for n in range(55):
        app.admin.create_integration(OPERATOR, "default", f"app{n:02d}")
    admin_as(Role.HELP_DESK)
    first = pages.get(T + "/admin-audit", params={"action": "integration.create"}).text
    (csv_link,) = re.findall(r'href="(/[^"]*admin-audit\.csv\?[^"]*)"', first)
    assert csv_link == T + "/admin-audit.csv?action=integration.create&amp;since=2027-01-14T08%3A00"
    (next_link,) = re.findall(r'href="(/[^"]*admin-audit\?[^"]*)"', first)
    second = pages.get(next_link.replace("&amp;", "&")).text
    assert "app50" in second and "app49" not in second
    (from_second,) = re.findall(r'href="(/[^"]*admin-audit\.csv\?[^"]*)"', second)
    download = pages.get(from_second.replace("&amp;", "&"))
    assert download.headers["content-disposition"] == 'attachment; filename="admin-audit.csv"'
    targets = [row["target"] for row in csv.DictReader(io.StringIO(download.text))]
    assert targets == [f"app{n:02d}" for n in range(50, 55)]  # from the second page on
