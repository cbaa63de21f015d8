"""The MFA Server migration over HTTP: the document as the body, a dry run, an applied run
and a second one that changes nothing; a refusal lists every problem in details."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

URL = "/v1/tenants/default/migrations/mfa-server"
SECRET = base64.b32encode(b"12345678901234567890").decode()
CSV = (
    "username,firstName,countryCode,phone,defaultMethod,mode,"
    "oathTokenSerialNumber,oathTokenSecretKey\n"
    f"alice@contoso.com,Alice,1,201-555-0123 x890,OATH token,standard,HW-1,{SECRET}\n"
    "bob,,44,07911 123456,text message,PIN,,\n"
).encode()


def test_a_dry_run_then_the_migration_then_nothing_more(
    client: TestClient, admin: dict[str, str]
) -> None:
    headers = {**admin, "Content-Type": "text/csv"}
    dry = client.post(URL, params={"dry_run": "true"}, content=CSV, headers=headers)
    assert dry.status_code == 200, dry.text
    planned = dry.json()
    assert (planned["dry_run"], planned["created"], planned["methods_added"]) == (True, 2, 5)
    assert client.get("/v1/tenants/default/users", headers=admin).json() == []
    done = client.post(URL, content=CSV, headers=headers).json()
    assert {**planned, "dry_run": False} == done
    alice = next(e for e in done["entries"] if e["user"] == "alice@contoso.com")
    assert alice["place"] == "line 2" and alice["action"] == "created"
    assert "voice +1 \u2022\u2022\u2022 0123 x890 (MFA Server phone)" in alice["methods"]
    listed = client.get("/v1/tenants/default/users/alice@contoso.com/methods", headers=admin)
    assert {(m["kind"], m["extension"]) for m in listed.json()} == {
        ("voice", "890"),
        ("sms", None),
        ("oath_token", None),
    }
    bob = next(e for e in done["entries"] if e["user"] == "bob")
    assert bob["reregister"] == ["pin"]
    again = client.post(URL, content=CSV, headers=headers).json()
    assert (again["created"], again["unchanged"], again["methods_added"]) == (0, 2, 0)
    assert SECRET not in dry.text + json.dumps(done) + json.dumps(again)
    users = client.get("/v1/tenants/default/users", headers=admin).json()
    assert sorted(u["user"] for u in users) == ["alice@contoso.com", "bob"]


def test_a_refused_document_lists_each_problem_and_migrates_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    bad = {
        "format": "mfa-server-users",
        "users": [
            {"username": "ok", "phone": "+12015550123"},
            {"username": "carol", "phone": "+1 not a number"},
            {"username": "dave", "oathTokenSerialNumber": "1", "oathTokenSecretKey": "!!"},
        ],
    }
    r = client.post(URL, json=bad, headers=admin)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "migration_refused"
    assert error["details"] == [
        {
            "where": "record 2 (carol)",
            "user": "carol",
            "field": "phone",
            "code": "invalid_phone",
            "problem": "'+1 not a number' is not a phone number",
        },
        {
            "where": "record 3 (dave)",
            "user": "dave",
            "field": "oathTokenSecretKey",
            "code": "invalid_secret",
            "problem": "the secret is not valid base32",
        },
    ]
    assert client.get("/v1/tenants/default/users", headers=admin).json() == []
    trail = client.get("/v1/admin-events", headers=admin, params={"limit": "100"}).json()
    refused = [e for e in trail["events"] if e["action"] == "migration.mfa_server"]
    assert [e["result"] for e in refused] == ["migration_refused"]


def test_a_tenant_admin_migrates_into_their_tenant_only(client: TestClient, app: App) -> None:
    app.admin.create_tenant(OPERATOR, "acme")
    _key, secret = app.admin.create_admin_key(OPERATOR, "acme ops", Role.TENANT_ADMIN, "acme")
    acme = {"Authorization": f"Bearer {secret}", "Content-Type": "text/csv"}
    assert client.post(URL, content=CSV, headers=acme).status_code == 404
    mine = client.post("/v1/tenants/acme/migrations/mfa-server", content=CSV, headers=acme)
    assert mine.status_code == 200 and mine.json()["created"] == 2


def test_documents_may_exceed_the_json_body_limit(
    client: TestClient, admin: dict[str, str]
) -> None:
    rows = "".join(f"user{i:05d},+1201555{i % 10000:04d}\n" for i in range(3000))
    body = ("username,phone\n" + rows).encode()  # ~90 KB, over the 64 KiB of JSON bodies
    r = client.post(URL, params={"dry_run": "true"}, content=body, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 3000
