"""Secret-key rotation: every stored seed is re-encrypted under a new key and still verifies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from tests.support.fakes import FakeClock
from twostep.adapters.storage.secretbox import (
    AesGcmSecretBox,
    EnvKeyManager,
    FileKeyManager,
    KeyFile,
    Keyring,
    keyring_from_env,
)
from twostep.bootstrap import App, build
from twostep.config import Config, StorageConfig
from twostep.domain.entities import Method, MethodStatus, OtpAlgorithm, OtpParams, OtpType
from twostep.domain.errors import SecretKeyError
from twostep.domain.ports.users import NewUser
from twostep.domain.results import Result
from twostep.domain.settings import TenantSettings
from twostep.factors import otp, registry
from twostep.factors.base import CodeMatch
from twostep.services.admin import OPERATOR
from twostep.services.context import gateway_context, method_context
from twostep.services.enroll import TokenSpec
from twostep.services.keys import rotate_secrets
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")

NEW_KEY = bytes.fromhex("5a" * 32)
HOTP_SEED = b"12345678901234567890"
TOTP_SEED = b"12345678901234567890123456789012"
SETTINGS = TenantSettings()


@dataclass(frozen=True)
class Enrolled:
    user: str
    method: Method
    seed: bytes


def enroll_everyone(app: App, clock: FakeClock) -> list[Enrolled]:
    """alice: HOTP token; bob: TOTP token (SHA256, 8 digits, 60 s);
    carol: a confirmed app_code; dave: an app_code still pending confirmation."""
    for name in ("alice", "bob", "carol", "dave"):
        app.admin.create_user(OPERATOR, "default", NewUser(name=name))
    hotp = app.enroll.enroll_oath_token(
        OPERATOR,
        "default",
        "alice",
        TokenSpec(serial="HOTP-1", secret=otp.b32encode(HOTP_SEED), params=OtpParams(OtpType.HOTP)),
    )
    totp_params = OtpParams(OtpType.TOTP, OtpAlgorithm.SHA256, digits=8, period=60)
    totp = app.enroll.enroll_oath_token(
        OPERATOR,
        "default",
        "bob",
        TokenSpec(serial="TOTP-1", secret="hex:" + TOTP_SEED.hex(), params=totp_params),
    )
    enrolled = [Enrolled("alice", hotp, HOTP_SEED), Enrolled("bob", totp, TOTP_SEED)]
    for name in ("carol", "dave"):
        enrollment = app.enroll.enroll_app_code(OPERATOR, "default", name)
        secret = parse_qs(urlsplit(enrollment.otpauth_uri).query)["secret"][0]
        seed = otp.parse_seed(secret)
        method = enrollment.method
        if name == "carol":
            code = current_code(method, seed, clock.now())
            method = app.enroll.confirm(OPERATOR, "default", name, method.id, code)
            assert method.status is MethodStatus.ACTIVE
        enrolled.append(Enrolled(name, method, seed))
    clock.advance(120)  # past the confirmation code
    return enrolled


def current_code(method: Method, seed: bytes, now: float) -> str:
    params = method.otp
    assert params is not None
    if params.type is OtpType.HOTP:
        return otp.hotp(seed, params, method.counter)
    return otp.hotp(seed, params, otp.time_step(now, params.period))


def sealed_seeds(app: App) -> dict[str, bytes]:
    with app.storage.transaction() as tx:
        return {v.row_id: v.sealed for v in tx.sealed.each() if v.place == "methods.seed"}


def sealed_seed(app: App, method_id: str) -> bytes:
    with app.storage.transaction() as tx:
        sealed = tx.methods.sealed_seed(method_id)
    assert sealed is not None
    return sealed


def assert_codes_verify(app: App, box: AesGcmSecretBox, enrolled: list[Enrolled]) -> None:
    """The seed opened from storage with ``box`` accepts the code the user's device shows."""
    now = app.deps.clock.now()
    for entry in enrolled:
        method = app.enroll.get(OPERATOR, "default", entry.user, entry.method.id)
        sealed = sealed_seed(app, method.id)
        assert not box.needs_rotation(sealed)
        seed = box.open(sealed, method_context(method.id))
        assert seed == entry.seed
        factor = registry.kind(method.kind).code
        assert factor is not None and method.otp is not None
        match = factor.match(method, seed, current_code(method, entry.seed, now), now, SETTINGS)
        if method.otp.type is OtpType.HOTP:
            assert match == CodeMatch(counter=method.counter), entry.user
        else:
            assert match == CodeMatch(step=otp.time_step(now, method.otp.period)), entry.user


def key_file_holding_the_apps_key(app: App, tmp_path: Path) -> KeyFile:
    """The operator moves from TWOSTEP_SECRET_KEY to a key file holding the same key."""
    assert app.config.storage.secret_key is not None
    key_file = KeyFile(tmp_path / "keys" / "secret.key")
    key_file.write(keyring_from_env(app.config.storage.secret_key.get_secret_value()))
    return key_file


class TestRotateWithAKeyFile:
    def test_every_seed_is_re_encrypted_and_counted(
        self, app: App, clock: FakeClock, tmp_path: Path
    ) -> None:
        enrolled = enroll_everyone(app, clock)
        before = sealed_seeds(app)
        key_file = key_file_holding_the_apps_key(app, tmp_path)

        report = rotate_secrets(app.deps, FileKeyManager(key_file), OPERATOR)

        assert report.reencrypted == len(enrolled) == 4
        after = sealed_seeds(app)
        assert after.keys() == before.keys()
        assert all(after[m] != before[m] for m in before)
        assert str(key_file.path) in report.note

    def test_seeds_still_verify_under_the_new_key(
        self, app: App, clock: FakeClock, tmp_path: Path
    ) -> None:
        enrolled = enroll_everyone(app, clock)
        key_file = key_file_holding_the_apps_key(app, tmp_path)

        rotate_secrets(app.deps, FileKeyManager(key_file), OPERATOR)

        new_box = AesGcmSecretBox(key_file.load_or_create())
        assert_codes_verify(app, new_box, enrolled)

    def test_the_old_key_is_retired_and_no_longer_opens_a_seed(
        self, app: App, clock: FakeClock, tmp_path: Path
    ) -> None:
        enrolled = enroll_everyone(app, clock)
        key_file = key_file_holding_the_apps_key(app, tmp_path)
        old_keys = key_file.load_or_create().keys

        rotate_secrets(app.deps, FileKeyManager(key_file), OPERATOR)

        remaining = key_file.load_or_create().keys
        assert len(remaining) == 1
        assert remaining[0] not in old_keys
        old_box = AesGcmSecretBox(Keyring(old_keys))
        for entry in enrolled:
            with pytest.raises(SecretKeyError):
                old_box.open(sealed_seed(app, entry.method.id), method_context(entry.method.id))

    def test_rotating_again_re_encrypts_everything_again(
        self, app: App, clock: FakeClock, tmp_path: Path
    ) -> None:
        enrolled = enroll_everyone(app, clock)
        manager = FileKeyManager(key_file_holding_the_apps_key(app, tmp_path))
        assert rotate_secrets(app.deps, manager, OPERATOR).reencrypted == 4
        assert rotate_secrets(app.deps, manager, OPERATOR).reencrypted == 4
        assert_codes_verify(app, AesGcmSecretBox(manager.key_file.load_or_create()), enrolled)

    def test_gateway_credentials_are_re_encrypted_too(self, app: App, tmp_path: Path) -> None:
        settings = {
            "account_sid": "AC" + "0" * 32,
            "auth_token": "tok",
            "from_number": "+14155550100",
        }
        view = app.gateways.add(OPERATOR, "default", "twilio", "twilio", settings)
        manager = FileKeyManager(key_file_holding_the_apps_key(app, tmp_path))

        assert rotate_secrets(app.deps, manager, OPERATOR).reencrypted == 1

        new_box = AesGcmSecretBox(manager.key_file.load_or_create())
        with app.storage.transaction() as tx:
            record = tx.gateways.by_id(view.id)
        assert record is not None and record.sealed_secrets is not None
        opened = new_box.open(record.sealed_secrets, gateway_context(view.id))
        assert b'"auth_token": "tok"' in opened

    def test_an_empty_database_re_encrypts_nothing(self, app: App, tmp_path: Path) -> None:
        manager = FileKeyManager(key_file_holding_the_apps_key(app, tmp_path))
        assert rotate_secrets(app.deps, manager, OPERATOR).reencrypted == 0

    def test_a_seed_that_does_not_open_aborts_the_rotation_and_changes_nothing(
        self, app: App, clock: FakeClock, tmp_path: Path
    ) -> None:
        enroll_everyone(app, clock)
        before = sealed_seeds(app)
        # A key file that does not hold the key the seeds are under.
        stranger = FileKeyManager(KeyFile(tmp_path / "other" / "secret.key"))
        with pytest.raises(SecretKeyError):
            rotate_secrets(app.deps, stranger, OPERATOR)
        assert sealed_seeds(app) == before


class Server:
    """One Twostep server process over the test database, with its own key configuration."""

    def __init__(self, wired: App, name: str) -> None:
        self.app = wired
        wired.admin.ensure_default_tenant()
        self.vpn = wired.admin.create_integration(OPERATOR, "default", name)[0]

    def validate(self, entry: Enrolled) -> Result:
        now = self.app.deps.clock.now()
        method = self.app.enroll.get(OPERATOR, "default", entry.user, entry.method.id)
        code = current_code(method, entry.seed, now)
        request = SignInRequest(user=entry.user, integration=self.vpn, code=code)
        return self.app.signin.sign_in(request).result


Start = Callable[[StorageConfig], Server]


@pytest.fixture
def start(config: Config, clock: FakeClock) -> Iterator[Start]:
    started: list[App] = []

    def start(storage: StorageConfig) -> Server:
        wired = build(config.model_copy(update={"storage": storage}), clock=clock)
        started.append(wired)
        return Server(wired, f"vpn{len(started)}")

    yield start
    for wired in started:
        wired.close()


class TestRotateWithTheEnvironmentKey:
    def test_new_key_first_then_the_old_key_is_dropped(
        self, app: App, config: Config, clock: FakeClock, start: Start
    ) -> None:
        enrolled = enroll_everyone(app, clock)
        assert config.storage.secret_key is not None
        old = config.storage.secret_key.get_secret_value()

        both = EnvKeyManager(keyring_from_env(f"{NEW_KEY.hex()},{old}"))
        report = rotate_secrets(app.deps, both, OPERATOR)
        assert report.reencrypted == 4
        assert "remove the others" in report.note
        assert rotate_secrets(app.deps, both, OPERATOR).reencrypted == 0  # nothing left to do

        assert_codes_verify(app, AesGcmSecretBox(Keyring([NEW_KEY])), enrolled)
        # A server restarted with only the new key accepts the users' codes.
        new_key = SecretStr(NEW_KEY.hex())
        restarted = start(config.storage.model_copy(update={"secret_key": new_key}))
        for entry in enrolled[:3]:  # dave's method is still pending
            assert restarted.validate(entry) is Result.ACCEPT, entry.user


class TestRotateUnderARunningServer:
    """The servers keep their keys in TWOSTEP_HOME/secret.key; the operator runs
    ``twostep keys rotate-secrets`` (another process) while they serve."""

    @pytest.fixture
    def file_keyed(self, config: Config, tmp_path: Path) -> StorageConfig:
        changes = {"home": tmp_path / "file-keyed", "secret_key": None}
        return config.storage.model_copy(update=changes)

    def test_a_running_server_opens_seeds_rotated_by_another_process(
        self, clock: FakeClock, start: Start, file_keyed: StorageConfig
    ) -> None:
        server = start(file_keyed)
        enrolled = enroll_everyone(server.app, clock)
        cli = start(file_keyed).app

        assert rotate_secrets(cli.deps, cli.keys, OPERATOR).reencrypted == 4

        for entry in enrolled[:3]:  # dave's method is still pending
            assert server.validate(entry) is Result.ACCEPT, entry.user

    def test_a_seed_enrolled_after_a_rotation_opens_after_a_restart(
        self, start: Start, file_keyed: StorageConfig
    ) -> None:
        running = start(file_keyed).app
        running.admin.create_user(OPERATOR, "default", NewUser(name="erin"))
        cli = start(file_keyed).app
        rotate_secrets(cli.deps, cli.keys, OPERATOR)

        late = running.enroll.enroll_app_code(OPERATOR, "default", "erin")

        restarted = start(file_keyed).app
        sealed = sealed_seed(restarted, late.method.id)
        assert restarted.deps.secrets.open(sealed, method_context(late.method.id))
