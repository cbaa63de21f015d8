"""The target of issue 17: across every layout, no token that can never verify is imported
silently. Each file below is written by the test in one layout; every token in it is
either refused with the file, or verifies with the code the real token shows (from
oathtool, at its own counter and clock), or is named in the import's warnings."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

from pskc import PSKC

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.unit.adapters.importers.oath_codes import hotp_code, totp_code
from twostep.bootstrap import App
from twostep.domain.results import Reason, Result
from twostep.domain.tokens import ImportRefused
from twostep.interfaces.token_files import ImportOptions, import_file
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
PIN = "urn:ietf:params:xml:ns:keyprov:pskc:pin"
AES_KEY = bytes(range(16)).hex()


def seed(n: int) -> bytes:
    return bytes((n * 7 + i) % 256 for i in range(20))


@dataclass(frozen=True)
class Token:
    """A real token: how it computes its codes, and the serial it should import under."""

    serial: str
    seed: bytes
    totp: bool = False
    digits: int = 6
    period: int = 30
    counter: int = 0
    drift: int = 0  # steps the token's own clock is ahead
    oath: bool = True  # False: the slot gives no OATH code at all (challenge-response)

    def code(self, now: float) -> str | None:
        if not self.oath:
            return None
        if self.totp:
            return totp_code(self.seed, now + self.drift * self.period, self.digits, self.period)
        return hotp_code(self.seed, self.counter, self.digits)


def pskc_file(clock: FakeClock) -> tuple[bytes, list[Token]]:
    tokens = [
        Token("P-HOTP8", seed(1), digits=8, counter=5),
        Token("P-TOTP-DRIFT", seed(2), totp=True, drift=-3),
        Token("P-GONE", seed(3)),
        Token("P-YK:1", seed(4)),
        Token("P-YK:2", seed(5), digits=8),
    ]
    container = PSKC()
    container.add_key(
        id="k1", serial="P-HOTP8", secret=seed(1), algorithm=HOTP, response_length=8, counter=5
    )
    container.add_key(id="k2", serial="P-TOTP-DRIFT", secret=seed(2), algorithm=TOTP, time_drift=-3)
    gone = datetime.datetime.fromtimestamp(clock.now() - 86_400, datetime.UTC)
    container.add_key(id="k3", serial="P-GONE", secret=seed(3), algorithm=HOTP, expiry_date=gone)
    for slot, n, digits in (("1", 4, 6), ("2", 5, 8)):
        container.add_key(
            id=f"yk{slot}",
            serial="P-YK",
            crypto_module=slot,
            secret=seed(n),
            algorithm=HOTP,
            response_length=digits,
        )
    container.add_key(id="pin", serial="P-HOTP8", secret=b"1234", algorithm=PIN)
    out = io.BytesIO()
    container.write(out)
    return out.getvalue(), tokens


def pskc_check_digit_file() -> tuple[bytes, list[Token]]:
    container = PSKC()
    key = container.add_key(
        id="c1", serial="P-LUHN", secret=seed(6), algorithm=HOTP, response_length=6
    )
    key.response_check = True  # the token shows 7 digits: six, then a Luhn digit
    out = io.BytesIO()
    container.write(out)
    return out.getvalue(), [Token("P-LUHN", seed(6), digits=7)]


def csv_files() -> list[tuple[bytes, list[Token]]]:
    vendor = "C-T60,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,60\n"
    entra = (
        "upn,serial number,secret key,time interval,manufacturer,model\n"
        ",C-E30,JBSWY3DPEHPK3PXP,30,Acme,C200\n"
    )
    return [
        (vendor.encode(), [Token("C-T60", b"12345678901234567890", totp=True, period=60)]),
        (entra.encode(), [Token("C-E30", bytes.fromhex("48656c6c6f21deadbeef"), totp=True)]),
    ]


def oathcsv_files() -> list[tuple[bytes, list[Token]]]:
    good = (
        f"O-H8,{seed(7).hex()},hotp,8\nO-T60,{seed(8).hex()},totp,6,60\n"
        f"O-H-C40,{seed(15).hex()},hotp,6,40\n"
    )
    guess = f"O-GUESS,{seed(9).hex()}\n"  # HOTP or TOTP? refused rather than guessed
    return [
        (
            good.encode(),
            [
                Token("O-H8", seed(7), digits=8),
                Token("O-T60", seed(8), totp=True, period=60),
                Token("O-H-C40", seed(15), counter=40),
            ],
        ),
        (guess.encode(), [Token("O-GUESS", seed(9), totp=True)]),
    ]


def yubico_files() -> list[tuple[bytes, list[Token]]]:
    def row(slot: int, public: str, secret: str, digits: int, moving: int, event: str) -> str:
        return (
            f"{event},12/05/26 02:00,{slot},{public},,{secret},,,0,0,0,{digits},{moving},0,0,0,0,0"
        )

    traditional = "\n".join(
        [
            "LOGGING START,12/05/26 01:59",
            row(1, "vvccccccccbc", seed(10).hex(), 8, 0, "OATH-HOTP"),
            row(2, "vvccccccccbc", seed(11).hex(), 6, 32, "OATH-HOTP"),
            row(1, "vvccccccccdd", bytes(16).hex(), 0, 0, "Yubico OTP"),
        ]
    )
    logged = "\n".join(
        [
            f"5551234,vvccccccccbf,0,{seed(12).hex()},000000000000,2026-12-05T02:00:00,",
            # Written for 8 digits: this log format does not say so.
            f"5551235,vvccccccccbg,0,{seed(13).hex()},000000000000,2026-12-05T02:00:00,",
            # An HMAC challenge-response slot: logged exactly like OATH-HOTP without an id.
            f"5551236,,0,{seed(14).hex()},000000000000,2026-12-05T02:00:00,",
        ]
    )
    return [
        (
            traditional.encode(),
            [
                Token("vvccccccccbc:1", seed(10), digits=8),
                Token("vvccccccccbc:2", seed(11), counter=32),
            ],
        ),
        (
            logged.encode(),
            [
                Token("5551234", seed(12)),
                Token("5551235", seed(13), digits=8),
                Token("5551236", seed(14), oath=False),
            ],
        ),
    ]


def test_no_token_that_can_never_verify_is_imported_silently(app: App, clock: FakeClock) -> None:
    integration, _secret = builders.integration(app)
    files = [
        pskc_file(clock),
        pskc_check_digit_file(),
        *csv_files(),
        *oathcsv_files(),
        *yubico_files(),
    ]
    outcome: dict[str, str] = {}
    for data, tokens in files:
        try:
            summary = import_file(app, OPERATOR, "default", data, ImportOptions())
        except ImportRefused as refused:
            for token in tokens:  # refused whole, and saying why
                assert token.serial in refused.message or "line 1" in refused.message
                outcome[token.serial] = "refused"
            continue
        notes = " | ".join([*summary.warnings, *summary.skipped])
        for token in tokens:
            user = f"user-{token.serial.replace(':', '-')}".lower()
            builders.user(app, user)
            app.tokens.assign(OPERATOR, "default", token.serial, user)
            code = token.code(clock.now()) or "000000"
            decision = app.signin.sign_in(
                SignInRequest(user=user, integration=integration, code=code)
            )
            if decision.result is Result.ACCEPT:
                outcome[token.serial] = "verifies"
            else:
                assert token.serial in notes, f"{token.serial} imported silently: {decision}"
                outcome[token.serial] = f"noted ({decision.reason})"
    assert outcome == {
        "P-HOTP8": "verifies",
        "P-TOTP-DRIFT": "verifies",
        "P-GONE": f"noted ({Reason.TOKEN_EXPIRED})",
        "P-YK:1": "verifies",
        "P-YK:2": "verifies",
        "P-LUHN": "refused",
        "C-T60": "verifies",
        "C-E30": "verifies",
        "O-H8": "verifies",
        "O-T60": "verifies",
        "O-H-C40": "verifies",
        "O-GUESS": "refused",
        "vvccccccccbc:1": "verifies",
        "vvccccccccbc:2": "verifies",
        "5551234": "verifies",
        "5551235": f"noted ({Reason.INVALID_CODE})",
        "5551236": f"noted ({Reason.INVALID_CODE})",
    }


def test_the_cli_offers_every_layout_the_importers_read() -> None:
    from twostep.adapters.importers import FORMATS
    from twostep.interfaces.cli import token_commands

    assert token_commands.FORMATS == FORMATS
