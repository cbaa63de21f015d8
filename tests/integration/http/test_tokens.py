"""The token API: multipart import (all or nothing, secrets never echoed), pool, assignment."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.unit.adapters.importers.big_pskc import flood

pytestmark = pytest.mark.usefixtures("backend")

CSV = b"serial,secret,interval\nTK001,JBSWY3DPEHPK3PXP,30\nTK002,GEZDGNBVGY3TQOJQ,60\n"


def test_import_list_assign(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post(
        "/v1/tenants/default/tokens/import",
        headers=admin,
        files={"file": ("tokens.csv", CSV, "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "imported": 2,
        "replaced": 0,
        "assigned": 0,
        "by_type": {"totp": 2},
        "by_manufacturer": {"unknown": 2},
        "layout": "csv",
        "skipped": [],
        "warnings": [],
    }
    assert "JBSWY3DPEHPK3PXP" not in r.text
    pool = client.get("/v1/tenants/default/tokens?assigned=false", headers=admin).json()
    assert [t["serial"] for t in pool] == ["TK001", "TK002"]
    assert pool[1]["period"] == 60 and "secret" not in str(pool) and "seed" not in str(pool)
    client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    r = client.post(
        "/v1/tenants/default/tokens/TK001/assign", json={"user": "alice"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["assigned"] is True
    r = client.post(
        "/v1/tenants/default/tokens/TK001/assign", json={"user": "alice"}, headers=admin
    )
    assert r.status_code == 409
    methods = client.get("/v1/tenants/default/users/alice/methods", headers=admin).json()
    assert [m["serial"] for m in methods] == ["TK001"]
    assert (
        client.post("/v1/tenants/default/tokens/TK001/unassign", headers=admin).json()["assigned"]
        is False
    )
    assert client.delete("/v1/tenants/default/tokens/TK002", headers=admin).status_code == 204


def test_a_refused_import_lists_every_row_and_keeps_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    bad = b"TK001,JBSWY3DPEHPK3PXP,30\nTK002,nope!,30\nTK003,JBSWY3DPEHPK3PXP,31\n"
    r = client.post(
        "/v1/tenants/default/tokens/import",
        headers=admin,
        files={"file": ("tokens.csv", bad, "text/csv")},
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "import_refused"
    assert "line 2" in r.text and "line 3" in r.text and "JBSWY3DPEHPK3PXP" not in r.text
    assert client.get("/v1/tenants/default/tokens", headers=admin).json() == []


def test_a_wrong_pskc_password_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    from twostep.adapters.importers import TokenRecord, write_pskc
    from twostep.domain.entities import OtpParams

    data = write_pskc(
        [TokenRecord("P1", bytes(range(20)), OtpParams())], "right password", iterations=1000
    )
    r = client.post(
        "/v1/tenants/default/tokens/import",
        headers=admin,
        data={"password": "wrong password", "format": "pskc"},
        files={"file": ("t.xml", data, "application/pskc+xml")},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "import_refused"
    assert "wrong password" not in r.text
    r = client.post(
        "/v1/tenants/default/tokens/import",
        headers=admin,
        data={"password": "right password"},
        files={"file": ("t.xml", data, "application/pskc+xml")},
    )
    assert r.status_code == 200 and r.json()["imported"] == 1


def test_uploads_may_exceed_the_json_body_limit(client: TestClient, admin: dict[str, str]) -> None:
    rows = b"".join(b"S%06d,JBSWY3DPEHPK3PXP,30\n" % i for i in range(5000))  # ~130 KB
    r = client.post(
        "/v1/tenants/default/tokens/import",
        headers=admin,
        files={"file": ("tokens.csv", rows, "text/csv")},
    )
    assert r.status_code == 200 and r.json()["imported"] == 5000


def test_resync_a_drifted_hotp_token(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    from twostep.domain.entities import OtpParams, OtpType
    from twostep.factors import otp

    seed, params = bytes(range(20)), OtpParams(type=OtpType.HOTP)
    rows = (
        "upn,serial,secret,interval,manufacturer,model,digits,algorithm,type\n"
        f"alice,H1,{otp.b32encode(seed)},30,Acme,H,6,SHA1,hotp\n"
    )
    client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    r = client.post(
        "/v1/tenants/default/tokens/import",
        headers=admin,
        files={"file": ("t.csv", rows.encode(), "text/csv")},
    )
    assert r.status_code == 200 and r.json()["assigned"] == 1, r.text
    assert (
        client.post(
            "/v1/tenants/default/tokens/NOPE/resync",
            headers=admin,
            json={"first_code": "1", "second_code": "2"},
        ).status_code
        == 404
    )
    r = client.post(
        "/v1/tenants/default/tokens/H1/resync",
        headers=admin,
        json={"first_code": otp.hotp(seed, params, 40), "second_code": otp.hotp(seed, params, 41)},
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/v1/validate",
        headers=integration_key,
        json={"user": "alice", "code": otp.hotp(seed, params, 42)},
    )
    assert r.json()["result"] == "accept"


def test_a_hostile_pskc_upload_is_refused_whole_and_cheaply(
    client: TestClient, admin: dict[str, str], tmp_path: Path
) -> None:
    """16 MB of ordinary elements (no DTD) once cost half a GB of worker memory."""
    path = flood(tmp_path / "flood.xml", "elements", 16 * 1024 * 1024)
    r = client.post(
        "/v1/tenants/default/tokens/import",
        headers=admin,
        files={"file": ("t.xml", path.read_bytes(), "application/pskc+xml")},
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "import_refused"
    assert "over a limit of the token import" in error["message"]
    assert client.get("/v1/tenants/default/tokens", headers=admin).json() == []


def test_the_layout_is_read_from_the_content_not_the_name(
    client: TestClient, admin: dict[str, str]
) -> None:
    from tests.unit.adapters.importers import rfc6030_figures as rfc

    # A PSKC file named like multiOTP's pskc-*.txt exports: read as PSKC all the same.
    r = client.post(
        "/v1/tenants/default/tokens/import",
        headers=admin,
        files={"file": ("pskc-tokens.txt", rfc.FIGURE_5, "text/plain")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["imported"], body["layout"]) == (1, "pskc")
    (skipped,) = body["skipped"]
    assert skipped.startswith("key 123456781 (serial 987654321): a PIN key")
    # The operator's format overrides the content.
    r = client.post(
        "/v1/tenants/default/tokens/import",
        headers=admin,
        files={"file": ("tokens.xml", rfc.FIGURE_3, "text/xml")},
        data={"format": "oathcsv"},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "import_refused"


def test_the_validity_period_is_listed(client: TestClient, admin: dict[str, str]) -> None:
    from pskc import PSKC

    container = PSKC()
    container.add_key(
        serial="OLD1",
        secret=b"12345678901234567890",
        algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp",
        start_date="2012-09-19T00:00:00Z",
        expiry_date="2022-09-01T00:00:00Z",
    )
    out = io.BytesIO()
    container.write(out)
    r = client.post(
        "/v1/tenants/default/tokens/import",
        headers=admin,
        files={"file": ("old.pskcxml", out.getvalue(), "application/pskc+xml")},
    )
    assert r.status_code == 200, r.text
    (warning,) = r.json()["warnings"]
    assert warning.startswith("1 token(s) already expired: OLD1 (expired 2022-09-01")
    (token,) = client.get("/v1/tenants/default/tokens", headers=admin).json()
    assert (token["valid_from"], token["valid_until"]) == (1_348_012_800.0, 1_661_990_400.0)
    r = client.post(
        "/v1/tenants/default/tokens/import",
        headers=admin,
        files={"file": ("old.pskcxml", out.getvalue(), "application/pskc+xml")},
        data={"refuse_expiring": "true", "update": "true"},
    )
    assert r.status_code == 422 and "refused as asked" in r.json()["error"]["message"]
