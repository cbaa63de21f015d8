"""The hardware-token pool: imports are all or nothing; tokens move between pool and users."""

from __future__ import annotations

import secrets

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.entities import MethodKind, MethodStatus, MfaState, OtpParams, OtpType
from twostep.domain.errors import Conflict
from twostep.domain.ports.methods import NewMethod
from twostep.domain.results import Reason, Result
from twostep.domain.tokens import ImportRefused, TokenRecord
from twostep.factors import otp
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")

HOTP = OtpParams(type=OtpType.HOTP)


def record(
    serial: str, *, upn: str | None = None, line: int = 1, maker: str = "Acme"
) -> TokenRecord:
    return TokenRecord(
        serial=serial,
        seed=secrets.token_bytes(20),
        params=HOTP,
        upn=upn,
        line=line,
        manufacturer=maker,
        model="C200",
    )


def validate(app: App, user: str, code: str) -> tuple[Result, Reason | None]:
    vpn = app.admin.list_integrations(OPERATOR, "default")
    integration = vpn[0] if vpn else builders.integration(app)[0]
    decision = app.signin.sign_in(SignInRequest(user=user, integration=integration, code=code))
    return decision.result, decision.reason


def test_an_import_fills_the_pool_and_reports_counts(app: App) -> None:
    summary = app.tokens.import_records(
        OPERATOR, "default", [record("A1"), record("A2", maker="Other"), record("B1")]
    )
    assert (summary.imported, summary.assigned) == (3, 0)
    assert summary.by_type == {"hotp": 3} and summary.by_manufacturer == {"Acme": 2, "Other": 1}
    pool = app.tokens.list(OPERATOR, "default", assigned=False)
    assert [t.serial for t in pool] == ["A1", "A2", "B1"]
    assert all(t.status is MethodStatus.UNASSIGNED and t.user_id is None for t in pool)
    assert (pool[0].manufacturer, pool[0].model) == ("Acme", "C200")
    assert [t.serial for t in app.tokens.list(OPERATOR, "default", serial_prefix="A")] == [
        "A1",
        "A2",
    ]
    assert [t.serial for t in app.tokens.list(OPERATOR, "default", manufacturer="Other")] == ["A2"]


def test_a_pooled_token_verifies_nothing_until_assigned(app: App) -> None:
    token = record("T1")
    app.tokens.import_records(OPERATOR, "default", [token])
    builders.user(app, "alice")
    assert validate(app, "alice", otp.hotp(token.seed, HOTP, 0))[1] is Reason.NO_METHOD_REGISTERED
    app.tokens.assign(OPERATOR, "default", "T1", "alice")
    assert validate(app, "alice", otp.hotp(token.seed, HOTP, 1)) == (Result.ACCEPT, None)
    alice = app.admin.get_user(OPERATOR, "default", "alice")
    assert alice.mfa is MfaState.ENFORCED and alice.default_method_id is not None


def test_a_token_is_assigned_once(app: App) -> None:
    app.tokens.import_records(OPERATOR, "default", [record("T1")])
    builders.user(app, "alice")
    builders.user(app, "bob")
    app.tokens.assign(OPERATOR, "default", "T1", "alice")
    with pytest.raises(Conflict):
        app.tokens.assign(OPERATOR, "default", "T1", "bob")


def test_unassign_returns_the_token_and_moves_the_default(app: App, clock: FakeClock) -> None:
    token = record("T1")
    app.tokens.import_records(OPERATOR, "default", [token])
    alice = builders.enrolled_user(app)  # app_code is the default
    app.tokens.assign(OPERATOR, "default", "T1", "alice")
    app.enroll.set_default(OPERATOR, "default", "alice", app.tokens.list(OPERATOR, "default")[0].id)
    app.tokens.unassign(OPERATOR, "default", "T1")
    user = app.admin.get_user(OPERATOR, "default", "alice")
    assert user.default_method_id == alice.method.id
    assert validate(app, "alice", otp.hotp(token.seed, HOTP, 0))[0] is Result.REJECT
    assert app.tokens.list(OPERATOR, "default", assigned=False)[0].serial == "T1"


def test_a_lost_token_is_refused(app: App) -> None:
    token = record("T1", upn="alice")
    builders.user(app, "alice")
    app.tokens.import_records(OPERATOR, "default", [token])
    app.tokens.mark_lost(OPERATOR, "default", "T1")
    assert validate(app, "alice", otp.hotp(token.seed, HOTP, 0))[1] is Reason.NO_METHOD_REGISTERED


def test_upn_assigns_on_import(app: App) -> None:
    builders.user(app, "alice")
    token = record("T1", upn="alice")
    summary = app.tokens.import_records(OPERATOR, "default", [token, record("T2", upn="alice")])
    assert summary.assigned == 2
    assert validate(app, "alice", otp.hotp(token.seed, HOTP, 0)) == (Result.ACCEPT, None)


def test_every_problem_is_listed_and_nothing_is_written(app: App) -> None:
    builders.user(app, "alice")
    app.tokens.import_records(OPERATOR, "default", [record("OLD")])
    rows = [record(f"N{i}", line=i + 2) for i in range(2500)]  # more than one batch
    rows.insert(5, record("OLD", line=100_000))
    rows.append(record("X", upn="nobody", line=100_001))
    with pytest.raises(ImportRefused) as refused:
        app.tokens.import_records(OPERATOR, "default", rows)
    assert [p.where for p in refused.value.problems] == ["line 100000", "line 100001"]
    assert "already stored" in str(refused.value) and "nobody" in str(refused.value)
    assert [t.serial for t in app.tokens.list(OPERATOR, "default")] == ["OLD"]


def test_update_replaces_a_pooled_token_but_never_an_assigned_one(app: App) -> None:
    app.tokens.import_records(OPERATOR, "default", [record("P1"), record("U1")])
    builders.user(app, "alice")
    app.tokens.assign(OPERATOR, "default", "U1", "alice")
    fresh = record("P1")
    summary = app.tokens.import_records(OPERATOR, "default", [fresh], update=True)
    assert summary.replaced == 1
    app.tokens.assign(OPERATOR, "default", "P1", "alice")
    assert validate(app, "alice", otp.hotp(fresh.seed, HOTP, 0)) == (Result.ACCEPT, None)
    with pytest.raises(ImportRefused, match="assigned"):
        app.tokens.import_records(OPERATOR, "default", [record("U1")], update=True)


def test_delete(app: App) -> None:
    app.tokens.import_records(OPERATOR, "default", [record("T1")])
    app.tokens.delete(OPERATOR, "default", "T1")
    assert app.tokens.list(OPERATOR, "default") == []


def test_a_token_outside_its_validity_dates_verifies_nothing(app: App, clock: FakeClock) -> None:
    builders.user(app, "alice")
    now = clock.now()
    expired = TokenRecord("OLD", secrets.token_bytes(20), HOTP, upn="alice", valid_until=now - 1)
    early = TokenRecord("NEW", secrets.token_bytes(20), HOTP, upn="alice", valid_from=now + 60)
    app.tokens.import_records(OPERATOR, "default", [expired, early])
    # The expired token answers a reason of its own, even with its right code.
    assert validate(app, "alice", otp.hotp(expired.seed, HOTP, 0)) == (
        Result.REJECT,
        Reason.TOKEN_EXPIRED,
    )
    clock.advance(61)
    assert validate(app, "alice", otp.hotp(early.seed, HOTP, 0)) == (Result.ACCEPT, None)


def test_an_import_names_expired_and_expiring_tokens(app: App, clock: FakeClock) -> None:
    now = clock.now()
    day = 86_400.0
    tokens = [
        TokenRecord("GONE", secrets.token_bytes(20), HOTP, valid_until=now - day),
        TokenRecord("SOON", secrets.token_bytes(20), HOTP, valid_until=now + 10 * day),
        TokenRecord("LATER", secrets.token_bytes(20), HOTP, valid_until=now + 60 * day),
        TokenRecord("EVER", secrets.token_bytes(20), HOTP),
    ]
    summary = app.tokens.import_records(OPERATOR, "default", tokens)
    assert summary.imported == 4
    expired, expiring = summary.warnings
    assert expired.startswith("1 token(s) already expired: GONE (expired ")
    assert expiring.startswith("1 token(s) expiring within 30 days: SOON (until ")
    assert "LATER" not in " ".join(summary.warnings)


def test_refuse_expiring_refuses_the_whole_file(app: App, clock: FakeClock) -> None:
    now = clock.now()
    tokens = [
        TokenRecord("GONE", secrets.token_bytes(20), HOTP, valid_until=now - 1, line=1),
        TokenRecord("SOON", secrets.token_bytes(20), HOTP, valid_until=now + 3600, line=2),
        TokenRecord("FINE", secrets.token_bytes(20), HOTP, line=3),
    ]
    with pytest.raises(ImportRefused) as caught:
        app.tokens.import_records(OPERATOR, "default", tokens, refuse_expiring=True)
    reasons = [(p.line, p.reason) for p in caught.value.problems]
    assert [line for line, _ in reasons] == [1, 2]
    assert "expired on" in reasons[0][1] and "within 30 days" in reasons[1][1]
    assert app.tokens.list(OPERATOR, "default") == []


def test_a_vendor_time_drift_is_the_token_s_first_step_offset(app: App, clock: FakeClock) -> None:
    builders.user(app, "alice")
    totp = OtpParams()
    seed = secrets.token_bytes(20)
    drifted = TokenRecord("DRIFT", seed, totp, upn="alice", drift=4)
    app.tokens.import_records(OPERATOR, "default", [drifted])
    step = otp.time_step(clock.now(), 30)
    assert app.tokens.get(OPERATOR, "default", "DRIFT").drift == 4
    # The token's clock is four steps ahead: its current code verifies, the server's not.
    assert validate(app, "alice", otp.hotp(seed, totp, step))[0] is Result.REJECT
    assert validate(app, "alice", otp.hotp(seed, totp, step + 4)) == (Result.ACCEPT, None)


def test_an_update_never_overwrites_a_token_assigned_in_between(app: App) -> None:
    # What a racing assignment on another node leaves for the import's conditional write.
    app.tokens.import_records(OPERATOR, "default", [record("P1")])
    builders.user(app, "alice")
    token = app.tokens.assign(OPERATOR, "default", "P1", "alice")
    with app.storage.transaction(write=True) as tx:
        assert not tx.tokens.replace(
            token.id,
            NewMethod(
                id=token.id,
                user_id=None,
                tenant_id=1,
                kind=MethodKind.OATH_TOKEN,
                status=MethodStatus.UNASSIGNED,
                sealed_seed=b"x",
                otp=HOTP,
                serial="P1",
            ),
        )


def test_registering_keeps_an_existing_default(app: App) -> None:
    alice = builders.enrolled_user(app)
    app.tokens.import_records(OPERATOR, "default", [record("T1", upn="alice")])
    assert app.admin.get_user(OPERATOR, "default", "alice").default_method_id == alice.method.id
