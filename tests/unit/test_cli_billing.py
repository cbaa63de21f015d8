"""Providers, licenses, statements and integration activation from the shell (issue 15)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx

from tests.support.cli import twostep
from tests.support.servers import serving


def test_a_provider_its_licenses_and_its_statement_from_the_shell(tmp_path: Path) -> None:
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    made = twostep(
        home, "providers", "create", "Acme MSP", "--billing-model", "per_user",
        "--link-tenant", "default", "--time-zone", "Asia/Seoul",
    )  # fmt: skip
    provider = made.split()[1]
    assert "Acme MSP" in twostep(home, "providers", "list")
    again = twostep(
        home, "providers", "create", "Other", "--billing-model", "per_user",
        "--link-tenant", "default", ok=False,
    )  # fmt: skip
    assert "[tenant_has_provider]" in again
    twostep(home, "users", "add", "alice")
    twostep(home, "users", "add", "bob")  # enabled, then licensed: billed for that moment
    twostep(home, "users", "add", "carol", "--mfa", "disabled")  # never configured for MFA
    assert "0 of 2 licenses" in twostep(home, "licenses", "set", "2")
    assert "bob holds a license" in twostep(home, "licenses", "assign", "bob")
    assert "carol holds a license" in twostep(home, "licenses", "assign", "carol")
    assert "[licenses_exhausted]" in twostep(home, "licenses", "assign", "alice", ok=False)
    month = json.loads(twostep(home, "billing", "statement", provider, "2020-01"))
    assert (month["units"], month["closed"]) == (0, True)  # before the provider existed
    text = twostep(home, "billing", "statement", provider, _this_month(), "--csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["user"], r["units"]) for r in rows] == [("alice", "1"), ("bob", "1"), ("", "2")]
    assert "[statement_month_invalid]" in twostep(
        home, "billing", "statement", provider, "2027-1", ok=False
    )
    trail = twostep(home, "admin-events", "list")
    assert "provider.create" in trail and "license.assign" in trail


def test_an_integration_is_activated_from_the_shell_against_a_running_server(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    old_key = twostep(home, "integrations", "add", "vpn").split()[-1]
    provider = twostep(
        home, "providers", "create", "A", "--billing-model", "per_authentication",
        "--link-tenant", "default",
    ).split()[1]  # fmt: skip
    twostep(home, "providers", "delete", provider)
    twostep(
        home, "providers", "create", "B", "--billing-model", "per_authentication",
        "--link-tenant", "default",
    )  # fmt: skip
    shown = twostep(home, "integrations", "activation", "vpn")
    code = shown.split("code:")[1].split()[0]
    password = shown.split("password:")[1].split()[0]
    with serving({"TWOSTEP_HOME": str(home)}) as urls:
        held = httpx.post(
            urls[0] + "/v1/validate",
            json={"user": "alice"},
            headers={"Authorization": f"Bearer {old_key}"},
        )
        assert held.json()["error"]["code"] == "integration_not_activated"
        done = twostep(home, "integrations", "activate", code, password, "--url", urls[0])
        new_key = done.split()[-1]
        assert new_key.startswith("tsi_") and new_key != old_key
        refused = twostep(
            home, "integrations", "activate", code, password, "--url", urls[0], ok=False
        )
        assert "[integration_activation_invalid]" in refused
        works = httpx.post(
            urls[0] + "/v1/validate",
            json={"user": "alice"},
            headers={"Authorization": f"Bearer {new_key}"},
        )
        assert works.status_code == 200, works.text  # no such user: a reject, not a refusal
    trail = twostep(home, "admin-events", "list")
    assert "integration.activate" in trail and password not in trail and code not in trail


def _this_month() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=9))).strftime("%Y-%m")
