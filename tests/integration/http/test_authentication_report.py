"""The authentication report (issue 15, item 5): ``GET /v1/tenants/{tenant}/audit`` and
``/v1/providers/{provider}/audit`` filter the audit events by user, method, result,
reason, integration, interface and time, JSON or CSV; a provider's are its linked
tenant's, and a tenant admin reaches only its own tenant's provider."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from fastapi.testclient import TestClient

from tests.support.fakes import FakeClock
from tests.support.usage import Written, write
from twostep.bootstrap import App
from twostep.domain.billing import BillingModel
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")


def _iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def now(app: App, clock: FakeClock) -> float:
    default = app.admin.ensure_default_tenant()
    acme = app.admin.create_tenant(OPERATOR, "acme")
    at = clock.now()
    write(
        app.storage,
        [
            Written(default.id, "default", at - 30, "accept", "sms"),
            Written(default.id, "default", at - 20, "reject", "app_code", "invalid_code", "web"),
            Written(default.id, "default", at - 10, "reject", None, "user_not_found", None),
            Written(default.id, "default", at - 5, "accept", "app_code", None, "vpn", "radius"),
            Written(acme.id, "acme", at - 1, "reject", "voice", "invalid_code"),
        ],
    )
    return at


def _reasons(client: TestClient, path: str, headers: dict[str, str], **query: str) -> list[object]:
    found = client.get(path, params=query, headers=headers)
    assert found.status_code == 200, found.text
    return [(e["result"], e["reason"], e["method"]) for e in found.json()["events"]]


def test_events_are_filtered_by_reason_integration_interface_and_time(
    client: TestClient, admin: dict[str, str], now: float
) -> None:
    path = "/v1/tenants/default/audit"
    assert _reasons(client, path, admin, reason="invalid_code") == [
        ("reject", "invalid_code", "app_code")
    ]
    assert _reasons(client, path, admin, integration="vpn", result="accept") == [
        ("accept", None, "sms"),
        ("accept", None, "app_code"),
    ]
    assert _reasons(client, path, admin, interface="radius") == [("accept", None, "app_code")]
    assert _reasons(client, path, admin, since=_iso(now - 15), method="app_code") == [
        ("accept", None, "app_code")
    ]
    assert _reasons(client, path, admin, reason="nothing_like_it") == []


def test_a_providers_events_are_its_linked_tenants(
    app: App, client: TestClient, admin: dict[str, str], now: float
) -> None:
    linked = app.providers.create(OPERATOR, "MSP", BillingModel.PER_AUTHENTICATION, "acme")
    alone = app.providers.create(OPERATOR, "Unlinked", BillingModel.PER_USER)
    path = f"/v1/providers/{linked.id}/audit"
    assert _reasons(client, path, admin) == [("reject", "invalid_code", "voice")]
    assert _reasons(client, path, admin, reason="user_not_found") == []
    assert _reasons(client, f"/v1/providers/{alone.id}/audit", admin) == []
    text = client.get(path, headers=admin | {"Accept": "text/csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["tenant"], r["method"], r["reason"]) for r in rows] == [
        ("acme", "voice", "invalid_code")
    ]


def test_a_tenant_admin_reaches_only_its_own_tenants_provider(
    app: App, client: TestClient, now: float
) -> None:
    mine = app.providers.create(OPERATOR, "Mine", BillingModel.PER_USER, "acme")
    theirs = app.providers.create(OPERATOR, "Theirs", BillingModel.PER_USER, "default")
    _, key = app.admin.create_admin_key(OPERATOR, "ops", Role.TENANT_ADMIN, "acme")
    acme_admin = {"Authorization": f"Bearer {key}"}
    assert len(_reasons(client, f"/v1/providers/{mine.id}/audit", acme_admin)) == 1
    other = client.get(f"/v1/providers/{theirs.id}/audit", headers=acme_admin)
    none = client.get("/v1/providers/0123abcd/audit", headers=acme_admin)
    assert other.status_code == none.status_code == 404
    assert other.json()["error"]["code"] == none.json()["error"]["code"] == "provider_not_found"
    tenant = client.get("/v1/tenants/default/audit", headers=acme_admin)
    assert tenant.json()["error"]["code"] == "tenant_not_found"


@pytest.mark.parametrize(
    "query",
    [{"reason": "Invalid Code"}, {"interface": "x" * 17}, {"integration": ""}, {"reason": ""}],
)
def test_malformed_filters_are_refused(
    client: TestClient, admin: dict[str, str], query: dict[str, str]
) -> None:
    refused = client.get("/v1/tenants/default/audit", params=query, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_request"
