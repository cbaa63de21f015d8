"""An admin lists and revokes a user's remembered browsers over the API; each revocation
is in the admin trail."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from twostep.bootstrap import App
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

BASE = "/v1/tenants/default/users/alice/remembered-devices"


def remembered(app: App) -> str:
    app.admin.update_settings(OPERATOR, "default", {"remember_device_enabled": True})
    builders.enrolled_user(app, "alice")
    user = app.admin.get_user(OPERATOR, "default", "alice")
    made = app.remembered.remember(user.tenant_id, user.id, "signin", "Chromium")
    assert made is not None
    return made[0]


def test_listed_then_revoked_one_by_one_and_all(
    app: App, client: TestClient, admin: dict[str, str]
) -> None:
    cookie = remembered(app)
    user = app.admin.get_user(OPERATOR, "default", "alice")
    app.remembered.remember(user.tenant_id, user.id, "my", None)
    listed = client.get(BASE, headers=admin).json()
    assert sorted(d["page"] for d in listed) == ["my", "signin"]
    first = next(d for d in listed if d["page"] == "signin")
    assert first["label"] == "Chromium" and first["id"] == cookie.split(".")[0]
    assert cookie.split(".")[1] not in str(listed)  # ids only, never the secret
    r = client.delete(f"{BASE}/{first['id']}", headers=admin)
    assert r.json() == {"revoked": 1}
    assert not app.remembered.check(cookie, user.tenant_id, user.id, "signin")
    r = client.delete(f"{BASE}/{first['id']}", headers=admin)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "remembered_device_not_found")
    assert client.delete(BASE, headers=admin).json() == {"revoked": 1}
    assert client.get(BASE, headers=admin).json() == []
    trail = client.get("/v1/tenants/default/admin-events", headers=admin).json()["events"]
    revoked = [e for e in trail if e["action"] == "remembered_device.revoke"]
    assert [(e["target"], e["result"]) for e in revoked] == [
        (f"alice/{first['id']}", "ok"),
        (f"alice/{first['id']}", "remembered_device_not_found"),  # refusals are recorded too
        ("alice", "ok"),
    ]
