"""`twostep migrate mfa-server`: a dry run, the migration, a second run that changes
nothing, the report as JSON, and a refusal that names each record and changes nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.support.cli import twostep

SECRET = base64.b32encode(b"12345678901234567890").decode()
DOCUMENT = {
    "format": "mfa-server-users",
    "version": 1,
    "users": [
        {
            "username": "alice@contoso.com",
            "countryCode": "1",
            "phone": "201-555-0123 x890",
            "defaultMethod": "phone call",
            "oathTokenSerialNumber": "HW-1",
            "oathTokenSecretKey": SECRET,
        },
        {"username": "bob", "phone": "+447911123456", "defaultMethod": "mobile app"},
    ],
}


def test_a_dry_run_the_migration_and_a_second_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    path = tmp_path / "users.json"
    path.write_text(json.dumps(DOCUMENT))
    dry = twostep(home, "migrate", "mfa-server", str(path), "--dry-run")
    assert dry.startswith("would migrate 2 user(s) into tenant default: 2 created")
    assert "record 2 bob: created" in dry and "registers again: mobile_app" in dry
    assert "bob" not in twostep(home, "users", "list")  # a dry run changed nothing
    done = twostep(home, "migrate", "mfa-server", str(path))
    assert done.startswith("migrated 2 user(s) into tenant default: 2 created")
    assert "+ voice +1 \u2022\u2022\u2022 0123 x890 (MFA Server phone)" in done
    again = twostep(home, "migrate", "mfa-server", str(path), "--json")
    report = json.loads(again)
    assert (report["created"], report["unchanged"], report["methods_added"]) == (0, 2, 0)
    assert SECRET not in dry + done + again
    trail = twostep(home, "admin-events", "list")
    assert trail.count("migration.mfa_server") == 2 and SECRET not in trail


def test_a_refused_document_names_each_record_and_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    path = tmp_path / "users.csv"
    path.write_text("username,phone\nalice,+12015550123\ncarol,12345\n")
    out = twostep(home, "migrate", "mfa-server", str(path), ok=False)
    assert "[migration_refused]" in out
    assert "line 3 (carol): phone: [invalid_phone]" in out
    assert "alice" not in twostep(home, "users", "list")
