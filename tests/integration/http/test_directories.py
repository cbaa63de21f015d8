"""The directories API over an in-memory directory: the password write-only, any subset of
the settings changed, the connection test, a sync with its counts (a dry run with its
lists), the progress on the directory, 409 while a sync runs, 502 when the directory is
down, and what the OpenAPI description says."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.directories import FakeDirectory, entry
from twostep.bootstrap import App
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR
from twostep.services.directories import DirectoryAdmin
from twostep.services.directory_sync import DirectorySync
from twostep.services.leases import directory_lease

pytestmark = pytest.mark.usefixtures("backend")

BASE = "/v1/tenants/default/directories"
NEW = {
    "name": "corp",
    "urls": ["ldaps://dc1.example.com"],
    "security": "ldaps",
    "bind_dn": "CN=reader,DC=example,DC=com",
    "bind_password": "reader-password",
    "base_dn": "DC=example,DC=com",
    "phone_methods": ["sms"],
}


@pytest.fixture
def ldap() -> FakeDirectory:
    return FakeDirectory()


@pytest.fixture
def api(app: App, ldap: FakeDirectory) -> Iterator[TestClient]:
    wired = dataclasses.replace(
        app,
        directories=DirectoryAdmin(app.deps, ldap),
        directory_sync=DirectorySync(app.deps, ldap),
    )
    with TestClient(create_app(wired), raise_server_exceptions=False) as client:
        yield client


def test_a_directory_is_added_listed_changed_and_deleted(
    api: TestClient, admin: dict[str, str]
) -> None:
    added = api.post(BASE, json=NEW, headers=admin)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["name"] == "corp" and body["bind_password_set"] is True
    assert "bind_password" not in body["settings"] and "reader-password" not in added.text
    assert body["settings"]["sync_interval"] == 3600 and body["sync_progress"] is None
    assert api.post(BASE, json=NEW, headers=admin).json()["error"]["code"] == "directory_exists"
    [listed] = api.get(BASE, headers=admin).json()
    assert listed["id"] == body["id"] and "reader-password" not in str(listed)
    changed = api.patch(
        f"{BASE}/corp",
        json={"sync_interval": 0, "attributes": {"mobile": "otherMobile"}, "position": 3},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    settings = changed.json()["settings"]
    assert settings["sync_interval"] == 0 and settings["attributes"]["mobile"] == "otherMobile"
    assert settings["attributes"]["email"] == "mail" and settings["phone_methods"] == ["sms"]
    assert changed.json()["position"] == 3
    cleared = api.patch(f"{BASE}/corp", json={"bind_password": None}, headers=admin)
    assert cleared.json()["bind_password_set"] is False
    assert api.delete(f"{BASE}/corp", headers=admin).status_code == 204
    assert api.get(f"{BASE}/corp", headers=admin).json()["error"]["code"] == "directory_not_found"


def test_settings_are_checked(api: TestClient, admin: dict[str, str]) -> None:
    for body, field in (
        ({**NEW, "urls": ["http://dc1"]}, "urls.0"),
        ({**NEW, "name": "two words"}, "name"),
        ({**NEW, "sync_interval": "soon"}, "sync_interval"),
        ({**NEW, "typo": 1}, "typo"),
        ({**NEW, "security": "plain", "urls": ["ldap://dc1.example.com"]}, "security"),
    ):
        refused = api.post(BASE, json=body, headers=admin)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["error"]["field"].startswith(field.split(".")[0]), refused.text
    api.post(BASE, json=NEW, headers=admin)
    refused = api.patch(f"{BASE}/corp", json={"base_dn": None}, headers=admin)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "base_dn"


def test_the_connection_test_and_a_directory_that_is_down(
    api: TestClient, admin: dict[str, str], ldap: FakeDirectory
) -> None:
    api.post(BASE, json=NEW, headers=admin)
    ldap.put(entry("alice@example.com"), entry("bob@example.com"))
    tested = api.post(f"{BASE}/corp/test", headers=admin)
    assert tested.status_code == 200 and tested.json()["users_in_scope"] == 2
    ldap.down = True
    for path in ("test", "sync"):
        down = api.post(f"{BASE}/corp/{path}", headers=admin)
        assert down.status_code == 502
        assert down.json()["error"]["code"] == "directory_unavailable"


def test_a_sync_answers_its_counts_and_leaves_its_progress(
    app: App, api: TestClient, admin: dict[str, str], ldap: FakeDirectory
) -> None:
    api.post(BASE, json=NEW, headers=admin)
    ldap.put(entry("alice@example.com", mobile="+14155550123"), entry("bob@example.com"))
    ldap.put(entry("svc", user_id=None, external_id="uuid-svc"))
    synced = api.post(f"{BASE}/corp/sync", json={}, headers=admin)
    assert synced.status_code == 200, synced.text
    body = synced.json()
    assert body["full"] is True and body["dry_run"] is False and body["created"] is None
    assert body["counts"]["created"] == 2 and body["counts"]["skipped"] == 1
    assert body["counts"]["methods_added"] == 1
    assert body["problems"][0]["reason"] == "no_user_id"
    shown = api.get(f"{BASE}/corp", headers=admin).json()
    assert shown["synced_at"] is not None
    assert shown["sync_progress"]["state"] == "done"
    assert shown["sync_progress"]["counts"] == body["counts"]
    user = api.get("/v1/tenants/default/users/alice@example.com", headers=admin).json()
    assert user["first_name"] == "Alice"


def test_a_dry_run_answers_its_lists(
    app: App, api: TestClient, admin: dict[str, str], ldap: FakeDirectory
) -> None:
    api.post(BASE, json=NEW, headers=admin)
    ldap.put(entry("alice@example.com"), entry("bob@example.com"))
    dry = api.post(f"{BASE}/corp/sync", json={"dry_run": True}, headers=admin).json()
    assert dry["dry_run"] is True and dry["counts"]["created"] == 2
    assert [c["user"] for c in dry["created"]] == ["alice@example.com", "bob@example.com"]
    assert dry["changed"] == [] and dry["disabled"] == []
    assert app.admin.list_users(OPERATOR, "default") == []


def test_a_second_sync_meanwhile_is_refused(
    app: App, api: TestClient, admin: dict[str, str]
) -> None:
    directory_id = api.post(BASE, json=NEW, headers=admin).json()["id"]
    assert directory_lease(app.deps, directory_id).take()  # another node is syncing
    refused = api.post(f"{BASE}/corp/sync", json={"full": True}, headers=admin)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "sync_running"
    refused = api.delete(f"{BASE}/corp", headers=admin)
    assert refused.status_code == 409


def test_the_openapi_description_keeps_the_password_write_only(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    for body in ("NewDirectoryBody", "DirectoryChangesBody"):
        field = schema["components"]["schemas"][body]["properties"]["bind_password"]
        [text] = [t for t in field["anyOf"] if t.get("type") == "string"]
        assert text["writeOnly"] is True and text["format"] == "password"
    answered = schema["components"]["schemas"]["DirectorySettingsOut"]["properties"]
    assert "bind_password" not in answered
    sync = schema["paths"]["/v1/tenants/{tenant}/directories/{name}/sync"]["post"]["responses"]
    assert {"200", "409", "502"} <= set(sync)
