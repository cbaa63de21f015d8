"""User names through the HTTP API: one user per name in any case or width, look-alike and
invisible characters refused, the display name in every answer."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.usefixtures("backend")

USERS = "/v1/tenants/default/users"
FULL_WIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"


def error(r: object) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]  # type: ignore[attr-defined]


def test_case_and_width_variants_are_one_user(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post(USERS, json={"user": "Alice"}, headers=admin)
    assert (r.status_code, r.json()["user"]) == (201, "Alice")
    for again in ("ALICE", "alice", FULL_WIDTH_ALICE):
        r = client.post(USERS, json={"user": again}, headers=admin)
        assert error(r) == (409, "user_exists")
        assert "'Alice'" in r.json()["error"]["message"]
    assert [u["user"] for u in client.get(USERS, headers=admin).json()] == ["Alice"]
    for typed in ("alice", "ALICE", FULL_WIDTH_ALICE):
        r = client.get(f"{USERS}/{quote(typed)}", headers=admin)
        assert (r.status_code, r.json()["user"]) == (200, "Alice")


@pytest.mark.parametrize(
    "name",
    [
        "\u0430lice",  # Cyrillic a with Latin lice
        "ali\u200bce",  # ZERO WIDTH SPACE
        "alice\u202e",  # RIGHT-TO-LEFT OVERRIDE
        "ali\u2066ce",  # LEFT-TO-RIGHT ISOLATE
        "alice\u2028",  # LINE SEPARATOR
        "alice\u0085",  # NEXT LINE (a C1 control)
        "alice\ufdd0",  # a non-character
    ],
)
def test_look_alike_and_invisible_names_are_refused(
    client: TestClient, admin: dict[str, str], name: str
) -> None:
    r = client.post(USERS, json={"user": name}, headers=admin)
    assert error(r) == (422, "invalid_request")
    assert r.json()["error"]["field"] == "user"
    assert client.get(USERS, headers=admin).json() == []


@pytest.mark.parametrize(
    "name",
    [
        "alice@example.com",
        "DOMAIN\\alice",
        "o'brien",
        "anne-marie",
        "j.smith",
        "\uae40\ubbfc\uc900",
        "\u0430\u043b\u0438\u0441\u0430",
    ],
)
def test_ordinary_and_single_script_names_are_accepted(
    client: TestClient, admin: dict[str, str], name: str
) -> None:
    r = client.post(USERS, json={"user": name}, headers=admin)
    assert (r.status_code, r.json()["user"]) == (201, name)
    assert client.get(f"{USERS}/{quote(name, safe='')}", headers=admin).json()["user"] == name


def test_a_decomposed_name_is_stored_composed(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post(USERS, json={"user": "jose\u0301"}, headers=admin)
    assert (r.status_code, r.json()["user"]) == (201, "jos\u00e9")
    r = client.post(USERS, json={"user": "jos\u00e9"}, headers=admin)
    assert error(r) == (409, "user_exists")


def test_sign_ins_with_any_variant_count_toward_one_lockout(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    client.post(USERS, json={"user": "Alice"}, headers=admin)
    r = client.post(
        f"{USERS}/ALICE/methods",
        json={"kind": "oath_token", "serial": "T1", "secret": "JBSWY3DPEHPK3PXP"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    for typed in ("alice", "ALICE", FULL_WIDTH_ALICE):
        r = client.post(
            "/v1/validate", json={"user": typed, "code": "000000"}, headers=integration_key
        )
        assert (r.status_code, r.json()["result"]) == (200, "reject")
    assert client.get(f"{USERS}/alice", headers=admin).json()["failed_count"] == 3
    events = client.get("/v1/tenants/default/audit", headers=admin).json()
    assert {e["user"] for e in events["events"]} == {"Alice"}

    r = client.post(f"{USERS}/{quote(FULL_WIDTH_ALICE)}/unlock", headers=admin)
    assert (r.status_code, r.json()["failed_count"]) == (200, 0)
    assert client.delete(f"{USERS}/aLiCe", headers=admin).status_code == 204
    assert client.get(USERS, headers=admin).json() == []


def test_the_users_list_pages_by_key(client: TestClient, admin: dict[str, str]) -> None:
    for name in ("carol", "Alice", "bob", "Dave"):
        client.post(USERS, json={"user": name}, headers=admin)
    r = client.get(USERS, params={"limit": 2}, headers=admin)
    assert [u["user"] for u in r.json()] == ["Alice", "bob"]
    r = client.get(USERS, params={"limit": 2, "after": "BOB"}, headers=admin)
    assert [u["user"] for u in r.json()] == ["carol", "Dave"]
