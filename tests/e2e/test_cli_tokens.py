"""`twostep tokens` from the shell: import, assign, refuse a bad file whole, export."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import twostep

pytestmark = pytest.mark.slow


def test_import_assign_export_and_import_elsewhere(tmp_path: Path) -> None:
    home, other = tmp_path / "a", tmp_path / "b"
    twostep(home, "db", "upgrade")
    twostep(other, "db", "upgrade")
    csv = tmp_path / "tokens.csv"
    csv.write_text(
        "upn,serial number,secret key,time interval,manufacturer,model\n"
        ",TK001,JBSWY3DPEHPK3PXP,30,Acme,C200\n"
        ",TK002,gezd gnbv gy3t qojq gezd gnbv gy3t qojq,60,Acme,C200\n"
    )
    out = twostep(home, "tokens", "import", str(csv))
    assert "imported 2" in out and "Acme: 2" in out and "JBSWY3DPEHPK3PXP" not in out
    twostep(home, "users", "add", "alice")
    twostep(home, "tokens", "assign", "TK001", "alice")
    listed = twostep(home, "tokens", "list", "--unassigned")
    assert "TK002" in listed and "TK001" not in listed

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "TK003,JBSWY3DPEHPK3PXP,30\n"  # fine
        "TK004,not-base32!,30\n"  # the reader refuses it
        "TK005,JBSWY3DPEHPK3PXP,45\n"  # and this
        "TK001,JBSWY3DPEHPK3PXP,30\n"  # readable, but the serial is assigned
    )
    refused = twostep(home, "tokens", "import", str(bad), "--update", ok=False)
    assert "[import_refused]" in refused and "(3 problems)" in refused
    assert "line 2" in refused and "line 3" in refused
    assert "line 4: serial TK001 is assigned to a user" in refused
    assert "TK003" not in twostep(home, "tokens", "list")  # nothing of either file was kept

    password = tmp_path / "password"
    password.write_text("correct horse battery staple\n")
    exported = tmp_path / "tokens.pskc"
    twostep(home, "tokens", "export", str(exported), "--password-file", str(password))
    assert exported.stat().st_mode & 0o777 == 0o600
    assert b"JBSWY3DPEHPK3PXP" not in exported.read_bytes()
    out = twostep(other, "tokens", "import", str(exported), "--password-file", str(password))
    assert "imported 2" in out
    wrong = tmp_path / "wrong"
    wrong.write_text("not the password\n")
    refused = twostep(
        other, "tokens", "import", str(exported), "--password-file", str(wrong), ok=False
    )
    assert "[import_refused]" in refused


def test_layouts_are_read_from_the_content_and_validity_is_listed(tmp_path: Path) -> None:
    from tests.unit.adapters.importers import rfc6030_figures as rfc

    home = tmp_path / "a"
    twostep(home, "db", "upgrade")
    # multiOTP names its PSKC exports pskc-*.txt: read as PSKC, not as CSV.
    txt = tmp_path / "pskc-tokens.txt"
    txt.write_bytes(rfc.FIGURE_5)
    out = twostep(home, "tokens", "import", str(txt))
    assert "imported 1" in out and "(read as pskc)" in out
    assert "skipped 1 key(s)" in out and "a PIN key" in out
    refused = twostep(home, "tokens", "import", str(txt), "--format", "csv", ok=False)
    assert "[import_refused]" in refused

    yubico = tmp_path / "configuration_log.csv"
    secret = bytes(range(20)).hex()
    yubico.write_text(
        "LOGGING START,12/05/26 01:59\n"
        f"OATH-HOTP,12/05/26 02:00,2,vvccccccccbc,,{secret},,,0,0,0,6,0,0,0,0,0,0\n"
    )
    out = twostep(home, "tokens", "import", str(yubico))
    assert "imported 1" in out and "(read as yubico)" in out

    from pskc import PSKC

    container = PSKC()
    container.add_key(
        serial="OLD1",
        secret=bytes(range(20)),
        algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp",
        expiry_date="2022-09-01T00:00:00Z",
    )
    old = tmp_path / "old.pskcxml"
    container.write(str(old))
    out = twostep(home, "tokens", "import", str(old))
    assert "warning: 1 token(s) already expired: OLD1 (expired 2022-09-01" in out
    listed = twostep(home, "tokens", "list")
    assert "VALID" in listed.splitlines()[0]
    assert any("OLD1" in row and "EXPIRED 2022-09-01" in row for row in listed.splitlines())
    twostep(home, "users", "add", "alice")
    twostep(home, "tokens", "assign", "OLD1", "alice")
    methods = twostep(home, "methods", "list", "alice")
    assert "EXPIRED 2022-09-01" in methods
