"""docs/migrating-from-mfa-server.md: the exporter's sample output that the guide shows
(JSON and CSV) is read from the guide itself and migrated, so the two cannot drift; and
contrib/mfa-server-export.ps1 writes exactly the fields the importer reads."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.unit.adapters.importers.oath_codes import totp_code
from twostep.adapters.importers.mfa_server import FIELDS, read_mfa_server
from twostep.bootstrap import App
from twostep.domain.results import Result
from twostep.interfaces.mfa_server import migrate_document
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "migrating-from-mfa-server.md"
EXPORTER = ROOT / "contrib" / "mfa-server-export.ps1"
RFC_SEED = b"12345678901234567890"  # the sample's secret key, base32


def sample(name: str) -> bytes:
    """The fenced block right after ``<!-- sample: NAME -->`` in the guide."""
    text = GUIDE.read_text(encoding="utf-8")
    found = re.search(rf"<!-- sample: {re.escape(name)} -->\n```\w*\n(.*?)\n```", text, re.S)
    assert found is not None, f"no sample {name} in the guide"
    return found.group(1).encode()


def test_the_guides_json_sample_migrates_as_the_guide_says(app: App, clock: FakeClock) -> None:
    report = migrate_document(app, OPERATOR, "default", sample("mfa-server-export.json"))
    assert (report.created, report.methods_added, report.reregister) == (3, 8, 2)
    by_user = {e.user: e for e in report.entries}
    assert by_user["bob@contoso.com"].reregister == ("pin", "text_pin")
    assert by_user["CONTOSO\\carol"].reregister == ("mobile_app",)
    methods = app.enroll.list(OPERATOR, "default", "alice@contoso.com")
    assert sorted((m.kind.value, m.phone, m.extension) for m in methods) == [
        ("oath_token", None, None),
        ("sms", "+12015550123", None),
        ("voice", "+12015550123", "890"),
        ("voice", "+12015550124", None),
    ]
    carol = app.enroll.list(OPERATOR, "default", "CONTOSO\\carol")
    assert {(m.kind.value, m.extension) for m in carol} == {("voice", "12"), ("sms", None)}
    integration, _key = builders.integration(app)
    code = totp_code(RFC_SEED, clock.now())
    decision = app.signin.sign_in(
        SignInRequest(user="alice@contoso.com", integration=integration, code=code)
    )
    assert decision.result is Result.ACCEPT, decision
    bob = app.signin.sign_in(SignInRequest(user="bob@contoso.com", integration=integration))
    assert bob.reason is not None and bob.reason.value == "registration_required"
    again = migrate_document(app, OPERATOR, "default", sample("mfa-server-export.json"))
    assert (again.created, again.unchanged, again.methods_added) == (0, 3, 0)


def test_the_guides_csv_sample_holds_the_same_users() -> None:
    from_json = read_mfa_server(sample("mfa-server-export.json"))
    from_csv = read_mfa_server(sample("mfa-server-export.csv"))
    assert [u.username for u in from_csv] == [u.username for u in from_json]
    for json_user, csv_user in zip(from_json, from_csv, strict=True):
        fields = [f for f in json_user.__slots__ if f != "place"]
        assert [getattr(csv_user, f) for f in fields] == [getattr(json_user, f) for f in fields]


def test_the_exporter_writes_exactly_the_fields_the_importer_reads() -> None:
    script = EXPORTER.read_text(encoding="utf-8")
    record = re.search(r"\$record = \[ordered\] @\{\n(.*?)\n    \}", script, re.S)
    assert record is not None
    written = re.findall(r"^\s{8}(\w+) = ", record.group(1), re.M)
    assert written == list(FIELDS)
    # Every SDK call the guide names is one the script makes.
    for call in ("FindUsers_3", "GetPhone", "GetUserSettings_2", "GetUserDevices"):
        assert f"$proxy.{call}(" in script, call


def test_every_problem_code_is_documented() -> None:
    from twostep.adapters.importers import mfa_server, mfa_server_phones
    from twostep.services import migration_plan

    codes = {
        value
        for module in (mfa_server, mfa_server_phones, migration_plan)
        for name, value in vars(module).items()
        if name.isupper()
        and isinstance(value, str)
        and re.fullmatch(r"[a-z_]+", value)
        and name not in ("FORMAT_NAME", "SECRET_FIELD")
    }
    assert {"invalid_phone", "serial_in_use", "duplicate_user"} <= codes
    text = (ROOT / "docs" / "error-codes.md").read_text(encoding="utf-8")
    section = text.split("## MFA Server migration problems", 1)[1].split("\n## ", 1)[0]
    assert sorted(c for c in codes if f"| `{c}` |" not in section) == []
