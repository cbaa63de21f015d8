"""Migrating MFA Server's users: what a dry run reports is what applying does; all or
nothing; a second run changes nothing (on SQLite and PostgreSQL); PIN mode and mobile-app
users register again; seeds are sealed, verify with the token's own codes, and never show."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.phones import outbox
from tests.unit.adapters.importers.oath_codes import totp_code
from twostep.adapters.storage import tables
from twostep.bootstrap import App
from twostep.domain.entities import MethodKind, MfaState
from twostep.domain.migration import MigrationRefused
from twostep.domain.results import Result
from twostep.interfaces.mfa_server import migrate_document
from twostep.services.admin import OPERATOR
from twostep.services.migration import MigrationReport
from twostep.services.signin_request import SignInRequest

SEED = b"12345678901234567890"
SECRET = base64.b32encode(SEED).decode()
OTHER_SEED = b"abcdefghijabcdefghij"

ALICE = {
    "username": "alice@contoso.com",
    "firstName": "Alice",
    "lastName": "Archer",
    "email": "alice@contoso.com",
    "userGroup": "VPN users",
    "countryCode": "1",
    "phone": "201-555-0123 x890",
    "backupPhone": "+1 201 555 0124",
    "defaultMethod": "OATH token",
    "language": "en",
    "oathTokenSerialNumber": "HW-0001",
    "oathTokenSecretKey": SECRET,
    "oathTokenTimeInterval": "60",
}
BOB = {
    "username": "bob",
    "phone": "+44 7911 123456",
    "defaultMethod": "text message",
    "mode": "PIN",
}
CAROL = {"username": "carol", "phone": "+44 20 7123 4567", "defaultMethod": "mobile app"}


def doc(*users: dict[str, Any]) -> bytes:
    return json.dumps({"format": "mfa-server-users", "version": 1, "users": users}).encode()


def migrate(app: App, data: bytes, **options: Any) -> MigrationReport:
    return migrate_document(app, OPERATOR, "default", data, **options)


def counts(app: App) -> dict[str, int]:
    names = ("users", "methods", "admin_events", "billing_user_states")
    with app.storage.engine.connect() as conn:
        found = {}
        for name in names:
            table = tables.metadata.tables.get(name)
            if table is not None:
                found[name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return found


def entry(report: MigrationReport, user: str) -> Any:
    return next(e for e in report.entries if e.user == user)


def test_a_created_user_has_their_fields_phones_token_and_default(app: App) -> None:
    report = migrate(app, doc(ALICE))
    assert report.counts() == {
        "users": 1,
        "created": 1,
        "merged": 0,
        "unchanged": 0,
        "skipped": 0,
        "methods_added": 4,
        "reregister": 0,
    }
    alice = app.admin.get_user(OPERATOR, "default", "alice@contoso.com")
    assert (alice.first_name, alice.last_name, alice.email, alice.language) == (
        "Alice",
        "Archer",
        "alice@contoso.com",
        "en",
    )
    assert alice.groups == ("VPN users",) and alice.phone == "+12015550123"
    assert alice.mfa is MfaState.ENFORCED and alice.registration_required_at is None
    methods = app.enroll.list(OPERATOR, "default", "alice@contoso.com")
    shown = sorted((m.kind.value, m.phone, m.extension, m.serial) for m in methods)
    assert shown == [
        ("oath_token", None, None, "HW-0001"),
        ("sms", "+12015550123", None, None),  # a text goes to the number alone
        ("voice", "+12015550123", "890", None),
        ("voice", "+12015550124", None, None),
    ]
    token = next(m for m in methods if m.kind is MethodKind.OATH_TOKEN)
    assert alice.default_method_id == token.id
    assert token.otp is not None and token.otp.period == 60


def test_the_migrated_token_verifies_with_the_codes_the_token_shows(
    app: App, clock: FakeClock
) -> None:
    migrate(app, doc(ALICE))
    integration, _key = builders.integration(app)
    code = totp_code(SEED, clock.now(), period=60)
    decision = app.signin.sign_in(
        SignInRequest(user="alice@contoso.com", integration=integration, code=code)
    )
    assert decision.result is Result.ACCEPT, decision


def test_a_dry_run_reports_what_applying_does_and_changes_nothing(app: App) -> None:
    before = counts(app)
    planned = migrate(app, doc(ALICE, BOB, CAROL), dry_run=True)
    assert counts(app) == before
    applied = migrate(app, doc(ALICE, BOB, CAROL))
    assert planned.dry_run and not applied.dry_run
    assert dataclasses.replace(planned, dry_run=False) == applied
    assert counts(app)["users"] == before["users"] + 3


@pytest.mark.usefixtures("backend")
def test_a_second_run_creates_nothing_and_changes_nothing(app: App) -> None:
    data = doc(ALICE, BOB, CAROL)
    first = migrate(app, data)
    after_first = counts(app)
    second = migrate(app, data)
    after_second = counts(app)
    third = migrate(app, data)
    assert first.created == 3
    assert (second.created, second.merged, second.unchanged, second.methods_added) == (0, 0, 3, 0)
    # Row counts identical, apart from the admin event each applied run records.
    assert after_second == {**after_first, "admin_events": after_first["admin_events"] + 1}
    assert counts(app) == {**after_second, "admin_events": after_second["admin_events"] + 1}
    assert third == second


def test_pin_mode_and_mobile_app_users_are_marked_to_register_again(app: App) -> None:
    report = migrate(app, doc(BOB, CAROL))
    assert entry(report, "bob").reregister == ("pin",)
    assert entry(report, "carol").reregister == ("mobile_app",)
    assert report.reregister == 2
    bob = app.admin.get_user(OPERATOR, "default", "bob")
    carol = app.admin.get_user(OPERATOR, "default", "carol")
    assert bob.registration_required_at is not None and carol.registration_required_at is not None
    # Their phones moved; Bob's default is kept, Carol chooses hers when she registers.
    sms = next(m for m in app.enroll.list(OPERATOR, "default", "bob") if m.kind is MethodKind.SMS)
    assert bob.default_method_id == sms.id
    assert carol.default_method_id is None
    assert [m.kind for m in app.enroll.list(OPERATOR, "default", "carol")] == [MethodKind.VOICE]
    assert "no sms method" in " ".join(entry(report, "carol").notes)  # a fixed line


def test_without_reregistration_they_keep_signing_in_with_what_moved(app: App) -> None:
    report = migrate(app, doc(BOB, CAROL), reregister=False)
    assert report.reregister == 0
    assert "not marked to register again (pin did not move)" in entry(report, "bob").notes
    carol = app.admin.get_user(OPERATOR, "default", "carol")
    assert carol.registration_required_at is None and carol.default_method_id is not None


def test_a_user_already_here_is_merged_keeping_what_they_have(app: App) -> None:
    builders.user(app, "Alice@Contoso.com", email="a.archer@contoso.com")
    kept = app.enroll.enroll_phone(
        OPERATOR, "default", "alice@contoso.com", MethodKind.VOICE, "+12015550124"
    )
    report = migrate(app, doc(ALICE))
    alice = entry(report, "alice@contoso.com")
    assert alice.action == "merged"
    assert alice.changes == {
        "first_name": [None, "Alice"],
        "last_name": [None, "Archer"],
        "language": [None, "en"],
        "phone": [None, "+1 \u2022\u2022\u2022 0123"],
        "groups": [None, ["VPN users"]],
    }
    assert "email differs: kept this server's" in alice.notes
    assert len(alice.methods) == 3  # the backup phone was already here
    user = app.admin.get_user(OPERATOR, "default", "alice@contoso.com")
    assert user.email == "a.archer@contoso.com" and user.default_method_id == kept.id
    assert migrate(app, doc(ALICE)).entries[0].action == "unchanged"


def test_a_disabled_user_is_skipped_and_says_why(app: App) -> None:
    builders.user(app, "bob")
    app.accounts.disable(OPERATOR, "default", "bob")
    report = migrate(app, doc(BOB))
    assert (report.skipped, entry(report, "bob").action) == (1, "skipped")
    assert "disabled" in (entry(report, "bob").reason or "")
    assert app.enroll.list(OPERATOR, "default", "bob") == []


def test_a_serial_stored_for_someone_else_refuses_everything(app: App) -> None:
    builders.user(app, "dave")
    app.tokens.import_records(OPERATOR, "default", [_record("HW-0001")])
    before = counts(app)
    with pytest.raises(MigrationRefused) as refused:
        migrate(app, doc(BOB, ALICE))
    [problem] = refused.value.problems
    assert (problem.where, problem.field, problem.code) == (
        "record 2 (alice@contoso.com)",
        "oathTokenSerialNumber",
        "serial_in_use",
    )
    assert counts(app) == before  # Bob, who was fine, was not created either


def test_the_same_serial_with_another_secret_is_refused(app: App) -> None:
    migrate(app, doc(ALICE))
    changed = {**ALICE, "oathTokenSecretKey": base64.b32encode(OTHER_SEED).decode()}
    with pytest.raises(MigrationRefused) as refused:
        migrate(app, doc(changed))
    assert [p.code for p in refused.value.problems] == ["secret_differs"]
    assert base64.b32encode(OTHER_SEED).decode() not in str(refused.value)


def test_a_number_the_tenant_does_not_call_is_refused(app: App) -> None:
    app.admin.update_settings(OPERATOR, "default", {"allowed_calling_codes": ["1"]})
    with pytest.raises(MigrationRefused) as refused:
        migrate(app, doc(ALICE, BOB))
    assert [(p.where, p.field, p.code) for p in refused.value.problems] == [
        ("record 2 (bob)", "phone", "number_not_allowed")
    ]


def test_no_secret_in_the_report_or_the_admin_trail(app: App) -> None:
    report = migrate(app, doc(ALICE))
    shown = json.dumps(dataclasses.asdict(report)) + str(report)
    with app.storage.engine.connect() as conn:
        shown += str(conn.execute(select(tables.admin_events)).all())
    for secret in (SECRET, SEED.decode(), SEED.hex(), "2015550123", "2015550124"):
        assert secret not in shown


def test_an_applied_run_is_one_admin_event_with_its_counts(app: App) -> None:
    migrate(app, doc(ALICE), dry_run=True)
    migrate(app, doc(ALICE))
    with app.storage.engine.connect() as conn:
        rows = conn.execute(
            select(tables.admin_events.c.action, tables.admin_events.c.changes).where(
                tables.admin_events.c.action == "migration.mfa_server"
            )
        ).all()
    assert len(rows) == 1
    assert json.loads(rows[0].changes)["created"] == [None, 1]


def _record(serial: str) -> Any:
    from twostep.domain.entities import OtpParams
    from twostep.domain.tokens import TokenRecord

    return TokenRecord(serial=serial, seed=OTHER_SEED, params=OtpParams())


def test_a_call_dials_the_extension_and_a_text_goes_to_the_number(app: App) -> None:
    migrate(app, doc({**ALICE, "defaultMethod": "phone call"}))
    integration, _key = builders.integration(app)
    for kind in (MethodKind.VOICE, MethodKind.SMS):
        decision = app.signin.sign_in(
            SignInRequest(user="alice@contoso.com", integration=integration, method=kind)
        )
        assert decision.result is Result.CHALLENGE, decision
    sent = [(r["channel"], r["to"], r.get("extension")) for r in outbox(app)]
    assert sent == [("voice", "+12015550123", "890"), ("sms", "+12015550123", None)]
