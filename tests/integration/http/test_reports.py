"""``GET /v1/reports/usage`` and ``/v1/reports/deliveries`` (issue 15, item 5): counts of
audit events by the chosen dimensions and deliveries by country, for a tenant, a provider
(its linked tenant) or every tenant, JSON or CSV; a tenant admin sees only its own tenant,
and bad dates answer ``report_range_invalid``."""

from __future__ import annotations

import csv
import datetime as dt
import io

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.fakes import FakeClock
from tests.support.usage import DAY, Written, write
from twostep.bootstrap import App
from twostep.domain.billing import BillingModel
from twostep.domain.entities import Role, Tenant
from twostep.domain.usage import day_of
from twostep.services.admin import OPERATOR
from twostep.services.rollups import RollupJob

pytestmark = pytest.mark.usefixtures("backend")


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def _day(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).date().isoformat()


@pytest.fixture
def acme(app: App) -> Tenant:
    return app.admin.create_tenant(OPERATOR, "acme")


@pytest.fixture
def today(app: App, clock: FakeClock, acme: Tenant) -> float:
    """Midnight (UTC) of today, after writing yesterday's and today's events (some rolled
    up, some not) and a text delivered and one failed in acme."""
    default = app.admin.ensure_default_tenant()
    midnight = day_of(clock.now()) * DAY
    write(
        app.storage,
        [
            Written(default.id, "default", midnight - 10, "accept", "sms"),
            Written(default.id, "default", midnight + 10, "accept", "app_code"),
            Written(default.id, "default", midnight + 20, "reject", "app_code", "invalid_code"),
            Written(default.id, "default", midnight + 30, "reject", None, "user_not_found", None),
            Written(acme.id, "acme", midnight + 40, "accept", "voice", integration="=cmd"),
        ],
    )
    RollupJob(app.deps, batch=3).round()
    with app.storage.transaction(write=True) as tx:
        tx.delivery_counts.add(acme.id, day_of(midnight), "sms", "DE", sent=2, failed=1, segments=3)
    return midnight


def test_counts_by_the_chosen_dimensions_over_the_days(
    client: TestClient, admin: dict[str, str], today: float
) -> None:
    query = {"tenant": "default", "from": _day(today - DAY), "to": _day(today)}
    found = client.get(
        "/v1/reports/usage", params=query | {"group_by": "day,result"}, headers=admin
    )
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["tenant"], body["provider"], body["group_by"]) == (
        "default",
        None,
        ["day", "result"],
    )
    assert body["events"] == 4
    assert body["counts"] == [
        {"day": _day(today - DAY), "result": "accept", "events": 1},
        {"day": _day(today), "result": "reject", "events": 2},
        {"day": _day(today), "result": "accept", "events": 1},
    ]
    by_reason = client.get(
        "/v1/reports/usage",
        params=query | {"group_by": "reason,integration", "from": _day(today)},
        headers=admin,
    ).json()["counts"]
    assert by_reason == [
        {"reason": None, "integration": "vpn", "events": 1},
        {"reason": "invalid_code", "integration": "vpn", "events": 1},
        {"reason": "user_not_found", "integration": None, "events": 1},
    ]


def test_every_tenant_for_a_global_admin_with_deliveries_by_country(
    client: TestClient, admin: dict[str, str], today: float
) -> None:
    body = client.get(
        "/v1/reports/usage",
        params={"from": _day(today), "to": _day(today), "group_by": "method"},
        headers=admin,
    ).json()
    assert body["tenant"] is None and body["events"] == 4
    assert {c["method"]: c["events"] for c in body["counts"]} == {
        "app_code": 2,
        None: 1,
        "voice": 1,
    }
    assert body["deliveries"] == [
        {"country": "DE", "kind": "sms", "sent": 2, "failed": 1, "segments": 3}
    ]
    alone = client.get(
        "/v1/reports/deliveries", params={"from": _day(today), "to": _day(today)}, headers=admin
    ).json()
    assert alone["deliveries"] == body["deliveries"]


def test_csv_has_a_column_per_dimension_and_cells_a_spreadsheet_shows_as_text(
    client: TestClient, admin: dict[str, str], today: float
) -> None:
    csv_accept = admin | {"Accept": "text/csv"}
    query = {"tenant": "acme", "from": _day(today), "to": _day(today)}
    found = client.get(
        "/v1/reports/usage", params=query | {"group_by": "integration,method"}, headers=csv_accept
    )
    assert found.status_code == 200 and found.headers["content-type"].startswith("text/csv")
    assert found.text.splitlines()[0] == "integration,method,events"
    assert list(csv.DictReader(io.StringIO(found.text))) == [
        {"integration": "'=cmd", "method": "voice", "events": "1"}
    ]
    countries = client.get("/v1/reports/deliveries", params=query, headers=csv_accept)
    assert list(csv.DictReader(io.StringIO(countries.text))) == [
        {"country": "DE", "kind": "sms", "sent": "2", "failed": "1", "segments": "3"}
    ]


def test_a_provider_reports_its_linked_tenant(
    app: App, client: TestClient, admin: dict[str, str], today: float
) -> None:
    linked = app.providers.create(OPERATOR, "MSP", BillingModel.PER_USER, "acme")
    alone = app.providers.create(OPERATOR, "Unlinked", BillingModel.PER_AUTHENTICATION)
    query = {"from": _day(today), "to": _day(today), "group_by": "result"}
    body = client.get(
        "/v1/reports/usage", params=query | {"provider": linked.id}, headers=admin
    ).json()
    assert (body["tenant"], body["provider"]) == ("acme", linked.id)
    assert body["counts"] == [{"result": "accept", "events": 1}]
    empty = client.get("/v1/reports/usage", params=query | {"provider": alone.id}, headers=admin)
    assert (empty.json()["counts"], empty.json()["deliveries"]) == ([], [])
    both = client.get(
        "/v1/reports/usage", params=query | {"provider": linked.id, "tenant": "acme"}, headers=admin
    )
    assert _code(both) == (422, "invalid_request")


def test_a_tenant_admin_sees_only_its_own_tenant_and_its_providers(
    app: App, client: TestClient, today: float
) -> None:
    theirs = app.providers.create(OPERATOR, "Theirs", BillingModel.PER_USER, "default")
    mine = app.providers.create(OPERATOR, "Mine", BillingModel.PER_USER, "acme")
    _, key = app.admin.create_admin_key(OPERATOR, "ops", Role.TENANT_ADMIN, "acme")
    acme_admin = {"Authorization": f"Bearer {key}"}
    days = {"from": _day(today), "to": _day(today)}
    for path in ("/v1/reports/usage", "/v1/reports/deliveries"):
        own = client.get(path, params=days | {"tenant": "acme"}, headers=acme_admin)
        assert own.status_code == 200
        assert client.get(path, params=days | {"provider": mine.id}, headers=acme_admin).is_success
        other = client.get(path, params=days | {"tenant": "default"}, headers=acme_admin)
        assert _code(other) == (404, "tenant_not_found")
        missing = client.get(path, params=days | {"tenant": "nope"}, headers=acme_admin)
        assert missing.json() == other.json() | {  # the same answer: nothing revealed
            "error": other.json()["error"] | {"message": "no tenant 'nope'"}
        }
        provider = client.get(path, params=days | {"provider": theirs.id}, headers=acme_admin)
        assert _code(provider) == (404, "provider_not_found")
        assert _code(client.get(path, params=days, headers=acme_admin)) == (403, "forbidden")
        assert client.get(path, params=days).status_code == 401


@pytest.mark.parametrize(
    ("days", "field"),
    [
        ({"from": "2026-13-01", "to": "2026-12-31"}, "from"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ({"from": "1/2/2026", "to": "2026-03-01"}, "from"),
        ({"from": "2026-01-01", "to": "tomorrow"}, "to"),
        ({"from": "1969-12-31", "to": "2026-01-01"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),  # backwards
        ({"from": "2025-01-01", "to": "2026-02-05"}, "to"),  # 401 days
    ],
)
def test_malformed_or_backwards_or_too_long_ranges_are_refused(
    client: TestClient, admin: dict[str, str], days: dict[str, str], field: str
) -> None:
    for path in ("/v1/reports/usage", "/v1/reports/deliveries"):
        refused = client.get(path, params=days, headers=admin)
        assert _code(refused) == (422, "report_range_invalid")
        assert refused.json()["error"]["field"] == field


def test_a_range_of_400_days_is_the_longest(client: TestClient, admin: dict[str, str]) -> None:
    days = {"from": "2025-01-01", "to": "2026-02-04"}
    assert client.get("/v1/reports/usage", params=days, headers=admin).status_code == 200


def test_unknown_or_repeated_dimensions_are_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    days = {"from": "2026-01-01", "to": "2026-01-31"}
    for group_by in ("day,tenant", "day,day", "user"):
        refused = client.get(
            "/v1/reports/usage", params=days | {"group_by": group_by}, headers=admin
        )
        assert _code(refused) == (422, "invalid_request")
    assert (
        _code(client.get("/v1/reports/usage", params={"to": "2026-01-01"}, headers=admin))[0] == 422
    )
