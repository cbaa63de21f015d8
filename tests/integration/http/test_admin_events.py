"""The admin trail over HTTP: a change names the key and the client's address; a refused
change is one event with its code and changes nothing; reads are not recorded; tenant
admins read their tenant's trail only; CSV is safe to open; no secret is ever recorded;
every mutating admin route has an action."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from twostep.bootstrap import App
from twostep.domain.admin_events import ACTIONS
from twostep.domain.entities import Role
from twostep.interfaces.http import deps
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR
from twostep.services.keys import rotate_secrets

pytestmark = pytest.mark.usefixtures("backend")

ADDRESS = "198.51.100.7"
# Mutating routes under /v1 that no admin calls: integrations, devices, providers' webhooks.
NOT_ADMIN = ("/v1/validate", "/v1/devices/", "/v1/gateways/{gateway}/", "/v1/signin/results/")
# An integration exchanging its activation credentials: recorded as the integration's own.
NOT_ADMIN += ("/v1/activations",)


@pytest.fixture
def api(app: App) -> Iterator[TestClient]:
    """The API as an admin at ADDRESS reaches it."""
    with TestClient(
        create_app(app), raise_server_exceptions=False, client=(ADDRESS, 50000)
    ) as client:
        yield client


@pytest.fixture
def acme(app: App) -> dict[str, str]:
    """A tenant admin of the tenant acme."""
    app.admin.create_tenant(OPERATOR, "acme")
    _admin, key = app.admin.create_admin_key(OPERATOR, "acme ops", Role.TENANT_ADMIN, "acme")
    return {"Authorization": f"Bearer {key}"}


def events(api: TestClient, admin: dict[str, str], **params: str) -> list[dict[str, object]]:
    r = api.get("/v1/admin-events", headers=admin, params={"limit": "1000", **params})
    assert r.status_code == 200, r.text
    found: list[dict[str, object]] = r.json()["events"]
    return found


def test_a_change_names_the_admin_key_and_the_clients_address(
    api: TestClient, admin: dict[str, str]
) -> None:
    before = len(events(api, admin))
    r = api.post(
        "/v1/tenants/default/users", json={"user": "alice", "mfa": "enforced"}, headers=admin
    )
    assert r.status_code == 201
    r = api.patch("/v1/tenants/default/users/alice", json={"mfa": "disabled"}, headers=admin)
    assert r.status_code == 200
    made, changed = events(api, admin)[before:]
    key_id = made["actor"]
    assert made == {
        "event_id": made["event_id"],
        "time": made["time"],
        "tenant": "default",
        "actor": key_id,
        "actor_name": "bootstrap",
        "role": "global_admin",
        "source": ADDRESS,
        "interface": "http",
        "action": "user.create",
        "target": "alice",
        "result": "ok",
        "changes": {"name": [None, "alice"], "mfa": [None, "enforced"]},
        "server_name": "node-a",
    }
    assert (changed["action"], changed["actor"], changed["source"]) == (
        "user.update",
        key_id,
        ADDRESS,
    )
    assert changed["changes"] == {"mfa": ["enforced", "disabled"]}


def test_a_refused_change_is_one_event_with_its_code_and_changes_nothing(
    api: TestClient, admin: dict[str, str], acme: dict[str, str]
) -> None:
    api.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    before = len(events(api, admin))

    # 404 for a tenant admin probing another tenant (as for one that does not exist).
    r = api.delete("/v1/tenants/default/users/alice", headers=acme)
    assert r.status_code == 404 and r.json()["error"]["code"] == "tenant_not_found"
    # 409: the user exists.
    r = api.post("/v1/tenants/default/users", json={"user": "ALICE"}, headers=admin)
    assert r.status_code == 409
    # 403: only a global admin makes tenants.
    assert api.post("/v1/tenants", json={"name": "globex"}, headers=acme).status_code == 403
    # 422: a setting out of range, and a body the schema refuses.
    r = api.patch("/v1/tenants/acme/settings", json={"max_failures": -1}, headers=acme)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_setting"
    r = api.post("/v1/tenants/acme/users", json={"usr": "bob"}, headers=acme)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"

    refused = [
        (e["action"], e["result"], e["tenant"], e["target"], e["actor_name"], e["source"])
        for e in events(api, admin)[before:]
    ]
    assert refused == [
        ("user.delete", "tenant_not_found", "default", "alice", "acme ops", ADDRESS),
        ("user.create", "user_exists", "default", None, "bootstrap", ADDRESS),
        ("tenant.create", "forbidden", None, None, "acme ops", ADDRESS),
        ("settings.update", "invalid_setting", "acme", None, "acme ops", ADDRESS),
        ("user.create", "invalid_request", "acme", None, "acme ops", ADDRESS),
    ]
    assert all(e["changes"] == {} for e in events(api, admin)[before:])
    users = api.get("/v1/tenants/default/users", headers=admin).json()
    assert [u["user"] for u in users] == ["alice"]
    assert api.get("/v1/tenants/globex", headers=admin).status_code == 404
    settings = api.get("/v1/tenants/acme/settings", headers=admin).json()
    assert settings["max_failures"] != -1

    # The prober's own trail holds its probe of "default"; the default tenant's does not.
    mine = api.get("/v1/tenants/acme/admin-events?action=user.delete", headers=acme).json()
    assert [e["result"] for e in mine["events"]] == ["tenant_not_found"]
    theirs = api.get("/v1/tenants/default/admin-events?action=user.delete", headers=admin)
    assert theirs.json()["events"] == []


def test_a_refused_call_naming_long_things_is_recorded_cut_to_size(
    api: TestClient, admin: dict[str, str]
) -> None:
    tenant, user = "t" * 200, "u" * 600
    r = api.delete(f"/v1/tenants/{tenant}/users/{user}", headers=admin)
    assert r.status_code == 404
    last = events(api, admin)[-1]
    assert (last["action"], last["result"]) == ("user.delete", "tenant_not_found")
    assert (last["tenant"], last["target"]) == (tenant[:64], user[:512])


def test_reads_and_unauthenticated_calls_are_not_recorded(
    api: TestClient, admin: dict[str, str]
) -> None:
    before = len(events(api, admin))
    for path in ("/v1/tenants", "/v1/tenants/default/users", "/v1/tenants/nowhere/users"):
        api.get(path, headers=admin)
    assert api.post("/v1/tenants", json={"name": "x"}).status_code == 401
    bad = {"Authorization": "Bearer tsa_0123456789abcdef_wrong"}
    assert api.delete("/v1/tenants/default/users/alice", headers=bad).status_code == 401
    assert len(events(api, admin)) == before


def test_a_tenant_admin_reads_only_its_tenants_trail(
    api: TestClient, admin: dict[str, str], acme: dict[str, str]
) -> None:
    api.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    api.post("/v1/tenants/acme/users", json={"user": "bob"}, headers=acme)
    r = api.get("/v1/tenants/acme/admin-events", headers=acme)
    assert r.status_code == 200
    seen = r.json()["events"]
    assert {e["tenant"] for e in seen} == {"acme"}
    assert [e["target"] for e in seen if e["action"] == "user.create"] == ["bob"]
    for other in ("default", "nowhere"):
        r = api.get(f"/v1/tenants/{other}/admin-events", headers=acme)
        assert r.status_code == 404 and r.json()["error"]["code"] == "tenant_not_found"
    r = api.get("/v1/admin-events", headers=acme)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    # A global admin reads every tenant's events and the global ones.
    tenants = {e["tenant"] for e in events(api, admin)}
    assert {"default", "acme", None} <= tenants


def test_filters_and_the_cursor(api: TestClient, admin: dict[str, str]) -> None:
    for name in ("u1", "u2", "u3"):
        api.post("/v1/tenants/default/users", json={"user": name}, headers=admin)
    api.delete("/v1/tenants/default/users/u2", headers=admin)
    url = "/v1/tenants/default/admin-events"
    page = api.get(url, headers=admin, params={"action": "user.", "limit": "2"}).json()
    assert [e["target"] for e in page["events"]] == ["u1", "u2"]
    rest = api.get(
        url, headers=admin, params={"action": "user.", "limit": "2", "cursor": page["next_cursor"]}
    ).json()
    assert [(e["action"], e["target"]) for e in rest["events"]] == [
        ("user.create", "u3"),
        ("user.delete", "u2"),
    ]
    assert rest["next_cursor"] is not None  # a full page; the next one is empty
    last = api.get(url, headers=admin, params={"cursor": rest["next_cursor"]}).json()
    assert last == {"events": [], "next_cursor": None}
    r = api.get(url, headers=admin, params={"target": "u2"}).json()
    assert [e["action"] for e in r["events"]] == ["user.create", "user.delete"]
    first = r["events"][0]
    r = api.get(url, headers=admin, params={"actor": first["actor"], "action": "user.delete"})
    assert len(r.json()["events"]) == 1
    r = api.get(url, headers=admin, params={"since": "2999-01-01T00:00:00Z"})
    assert r.json()["events"] == []
    r = api.get(url, headers=admin, params={"since": "2020-01-01T00:00:00"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "since"
    r = api.get(url, headers=admin, params={"action": "User.Create"})
    assert r.status_code == 422


def test_csv_parses_and_no_cell_runs_as_a_formula(api: TestClient, admin: dict[str, str]) -> None:
    name = "=HYPERLINK(1)"
    assert (
        api.post("/v1/tenants/default/users", json={"user": name}, headers=admin).status_code == 201
    )
    r = api.get("/v1/tenants/default/admin-events", headers={**admin, "Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    created = [row for row in rows if row["action"] == "user.create"]
    assert created[0]["target"] == "'" + name
    assert json.loads(created[0]["changes"])["name"] == [None, name]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


def test_integrations_are_legacy_or_not_and_the_change_is_recorded(
    api: TestClient, admin: dict[str, str]
) -> None:
    url = "/v1/tenants/default/integrations"
    r = api.post(url, json={"name": "imap", "legacy": True}, headers=admin)
    assert r.status_code == 201 and r.json()["legacy"] is True
    assert api.post(url, json={"name": "web"}, headers=admin).json()["legacy"] is False
    listed = {i["name"]: i["legacy"] for i in api.get(url, headers=admin).json()}
    assert listed == {"imap": True, "web": False}

    r = api.patch(f"{url}/imap", json={"legacy": False}, headers=admin)
    assert r.status_code == 200 and r.json()["legacy"] is False
    assert api.patch(f"{url}/nope", json={"legacy": True}, headers=admin).status_code == 404
    trail = events(api, admin, action="integration.update")
    assert [(e["target"], e["result"], e["changes"]) for e in trail] == [
        ("imap", "ok", {"legacy": [True, False]}),
        ("nope", "integration_not_found", {}),
    ]


def test_no_secret_is_ever_recorded(api: TestClient, admin: dict[str, str], app: App) -> None:
    secrets: list[str] = []
    tenant = "/v1/tenants/default"
    api.post(f"{tenant}/users", json={"user": "alice"}, headers=admin)

    created = api.post("/v1/keys", json={"name": "ops", "role": "global_admin"}, headers=admin)
    secrets.append(created.json()["key"])
    integration = api.post(f"{tenant}/integrations", json={"name": "web"}, headers=admin)
    secrets.append(integration.json()["key"])
    token = "twilio-auth-token-0123456789"
    gateway = {
        "name": "sms-main",
        "kind": "twilio",
        "settings": {
            "account_sid": "AC" + "1" * 32,
            "auth_token": token,
            "from_number": "+14155550100",
        },
    }
    assert api.post(f"{tenant}/gateways", json=gateway, headers=admin).status_code == 201
    secrets.append(token)
    shared = "radius-shared-secret-0123456789"
    body = {"name": "vpn", "network": "192.0.2.0/24", "secret": shared}
    assert api.post(f"{tenant}/radius-clients", json=body, headers=admin).status_code == 201
    secrets.append(shared)
    generated = api.post(
        f"{tenant}/radius-clients", json={"name": "vpn2", "network": "192.0.2.77"}, headers=admin
    )
    secrets.append(generated.json()["secret"])
    password = "local-password-0123456789"
    url = f"{tenant}/users/alice/password"
    assert api.put(url, json={"password": password}, headers=admin).status_code == 204
    secrets.append(password)
    refused = "refused-password-" + "9" * 100  # too long: refused, and still not recorded
    assert api.put(url, json={"password": refused}, headers=admin).status_code == 422
    secrets.append(refused)
    seed = "JBSWY3DPEHPK3PXPJBSWY3DP"
    method = {"kind": "oath_token", "serial": "T1", "secret": seed, "otp_type": "hotp"}
    assert api.post(f"{tenant}/users/alice/methods", json=method, headers=admin).status_code == 201
    secrets.append(seed)
    app_code = api.post(f"{tenant}/users/alice/methods", json={"kind": "app_code"}, headers=admin)
    secrets.append(app_code.json()["otpauth_uri"].split("secret=")[1].split("&")[0])
    activation = api.post(f"{tenant}/users/alice/devices/activations", headers=admin)
    secrets.append(activation.json()["activation_code"].replace("-", ""))
    csv_seed = "GEZDGNBVGY3TQOJQGEZDGNBV"
    pool = api.post(
        f"{tenant}/tokens/import",
        headers=admin,
        files={"file": ("t.csv", f"serial,secret\nTK9,{csv_seed}\n".encode(), "text/csv")},
    )
    assert pool.status_code == 200
    secrets.append(csv_seed)
    rotate_secrets(app.deps, app.keys, OPERATOR)
    secret_key = app.config.storage.secret_key
    assert secret_key is not None
    secrets.append(secret_key.get_secret_value())

    with app.storage.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM admin_events").all()
    stored = "\n".join(json.dumps(list(row), default=str) for row in rows)
    assert len(rows) >= 14 and "password.set" in stored and "secret_key.rotate" in stored
    leaked = [s for s in secrets if s in stored or s.lower() in stored.lower()]
    assert leaked == []


# -- every mutating admin route records its action ------------------------------------------


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if included is not None:
            yield from _api_routes(included.routes)


def _authenticates_an_admin(dependant: Dependant) -> bool:
    return any(d.call is deps.admin or _authenticates_an_admin(d) for d in dependant.dependencies)


def test_every_mutating_admin_route_is_recorded_under_its_action(app: App) -> None:
    routes = list(_api_routes(create_app(app).routes))
    mutating = [r for r in routes if r.methods & deps.MUTATING and r.path.startswith("/v1/")]
    admin_routes = [r for r in mutating if not r.path.startswith(NOT_ADMIN)]
    # An admin change authenticates with the admin key (the dependency records refusals)...
    unauthenticated = [r.path for r in admin_routes if not _authenticates_an_admin(r.dependant)]
    assert unauthenticated == []
    # ...and is named by its action (the name a refusal is recorded under).
    unnamed = [
        f"{sorted(r.methods)} {r.path}: {r.name}"
        for r in mutating
        if _authenticates_an_admin(r.dependant) and r.name not in ACTIONS
    ]
    assert unnamed == []
    assert len(admin_routes) >= 30
    # Reads are never admin changes: a GET route has no action to record.
    assert not any(r.name in ACTIONS for r in routes if not r.methods & deps.MUTATING)
