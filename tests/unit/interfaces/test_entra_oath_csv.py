"""Issue 16, item 3: Entra ID's OATH token CSV, exactly as Microsoft's documentation shows
it (header required), imports unchanged through the token import, and the token then
verifies with the codes the real token shows (oathtool's)."""

from __future__ import annotations

import base64

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.unit.adapters.importers.oath_codes import totp_code
from twostep.adapters.importers import detect, read_token_file
from twostep.bootstrap import App
from twostep.domain.results import Result
from twostep.domain.tokens import ImportRefused
from twostep.interfaces.token_files import ImportOptions, import_file
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

# Microsoft Entra ID's sample ("Authentication methods: OATH tokens"), byte for byte.
ENTRA_SAMPLE = (
    b"upn,serial number,secret key,time interval,manufacturer,model\n"
    b"Helga@contoso.com,1234567,2234567abcdef2234567abcdef,60,Contoso,HardwareKey\n"
)
SEED = base64.b32decode("2234567ABCDEF2234567ABCDEF======")


def test_the_sample_reads_as_entra_wrote_it() -> None:
    assert detect(ENTRA_SAMPLE) == "csv"
    [token] = read_token_file(ENTRA_SAMPLE).records
    assert (token.upn, token.serial, token.manufacturer, token.model) == (
        "Helga@contoso.com",
        "1234567",
        "Contoso",
        "HardwareKey",
    )
    assert token.seed == SEED and token.params.period == 60 and token.params.digits == 6


def test_the_sample_imports_assigned_to_helga_and_verifies(app: App, clock: FakeClock) -> None:
    builders.user(app, "helga@contoso.com")
    summary = import_file(app, OPERATOR, "default", ENTRA_SAMPLE, ImportOptions())
    assert (summary.imported, summary.assigned, summary.layout) == (1, 1, "csv")
    integration, _key = builders.integration(app)
    code = totp_code(SEED, clock.now(), period=60)
    decision = app.signin.sign_in(
        SignInRequest(user="Helga@contoso.com", integration=integration, code=code)
    )
    assert decision.result is Result.ACCEPT, decision
    clock.advance(60)
    wrong = totp_code(SEED, clock.now() + 600, period=60)
    refused = app.signin.sign_in(
        SignInRequest(user="Helga@contoso.com", integration=integration, code=wrong)
    )
    assert refused.result is Result.REJECT


def test_without_the_user_the_sample_is_refused_whole(app: App) -> None:
    with pytest.raises(ImportRefused) as refused:
        import_file(app, OPERATOR, "default", ENTRA_SAMPLE, ImportOptions())
    assert "line 2: no user 'Helga@contoso.com' in the tenant" in str(refused.value)
    assert app.tokens.list(OPERATOR, "default") == []
