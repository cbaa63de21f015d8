"""The accounts file: where it is, who may read it, and that a write is all or nothing."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from twostep.authenticator.errors import AccountNotFound, KeystoreError
from twostep.authenticator.keystore import Account, Keystore, default_home, select
from twostep.authenticator.model import Totp
from twostep.authenticator.signing import DeviceKey, KeyType


def account(device_id: str = "dev_1", user: str = "alice", **changes: object) -> Account:
    key = DeviceKey.generate(KeyType.ED25519)
    base = Account(
        server="https://mfa.example.com",
        device_id=device_id,
        tenant="default",
        user=user,
        issuer="Twostep",
        key_type=key.key_type,
        private_key=key.to_pem(),
        totp=Totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "SHA1", 6, 30),
        name="laptop",
        created_at=1795000000.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def wide_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_round_trip(tmp_path: Path) -> None:
    store = Keystore(tmp_path / "h")
    assert store.load() == []
    first, second = account("dev_1"), account("dev_2", user="bob", key_type=KeyType.P256)
    second = replace(second, private_key=DeviceKey.generate(KeyType.P256).to_pem())
    store.add(first)
    store.add(second)
    assert Keystore(tmp_path / "h").load() == [first, second]
    assert first.key().public_bytes() == DeviceKey.from_pem(first.private_key).public_bytes()
    assert second.key().key_type is KeyType.P256


def test_file_0600_and_directory_0700_whatever_the_umask(tmp_path: Path, wide_umask: None) -> None:
    store = Keystore(tmp_path / "h")
    store.add(account())
    assert mode(store.home) == 0o700
    assert mode(store.path) == 0o600
    assert mode(store.home / ".lock") == 0o600


def test_a_too_open_directory_is_tightened(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    os.chmod(home, 0o755)  # noqa: S103 - the too-open directory under test
    Keystore(home).add(account())
    assert mode(home) == 0o700


def test_write_replaces_the_file_whole(tmp_path: Path) -> None:
    store = Keystore(tmp_path / "h")
    store.add(account("dev_1"))
    before = store.path.stat().st_ino
    store.add(account("dev_2"))
    assert store.path.stat().st_ino != before  # a new file renamed over, not rewritten
    assert {p.name for p in store.home.iterdir()} == {"accounts.json", ".lock"}


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Keystore(tmp_path / "h")
    store.add(account("dev_1"))
    old = store.path.read_bytes()

    def broken_replace(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", broken_replace)
    with pytest.raises(KeystoreError, match="No space left"):
        store.add(account("dev_2"))
    assert store.path.read_bytes() == old
    assert {p.name for p in store.home.iterdir()} == {"accounts.json", ".lock"}


def test_an_interrupted_serialisation_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Keystore(tmp_path / "h")
    store.add(account("dev_1"))
    old = store.path.read_bytes()

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("json.dump", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.add(account("dev_2"))
    assert store.path.read_bytes() == old
    assert {p.name for p in store.home.iterdir()} == {"accounts.json", ".lock"}


def test_file_format(tmp_path: Path) -> None:
    store = Keystore(tmp_path)
    item = account()
    store.add(item)
    data = json.loads(store.path.read_text())
    assert data["version"] == 1
    (stored,) = data["accounts"]
    assert stored["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert stored["key_type"] == "ed25519"
    assert stored["totp"] == {
        "secret": item.totp.secret,
        "algorithm": "SHA1",
        "digits": 6,
        "period": 30,
    }
    assert {"server", "device_id", "tenant", "user", "issuer"} <= stored.keys()


def test_fields_of_a_newer_client_are_kept(tmp_path: Path) -> None:
    store = Keystore(tmp_path)
    store.add(account("dev_1"))
    data = json.loads(store.path.read_text())
    data["accounts"][0]["color"] = "teal"
    store.path.write_text(json.dumps(data))
    store.add(account("dev_2"))
    assert json.loads(store.path.read_text())["accounts"][0]["color"] == "teal"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "not an accounts file"),
        ('{"version": 2, "accounts": []}', "newer"),
        ('{"accounts": [{"server": "x"}]}', "malformed"),
        ('{"accounts": [7]}', "not an object"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "accounts.json").write_text(content)
    with pytest.raises(KeystoreError, match=message):
        Keystore(tmp_path).load()


def test_remove(tmp_path: Path) -> None:
    store = Keystore(tmp_path)
    store.add(account("dev_1"))
    store.add(account("dev_2"))
    assert store.remove("dev_1").device_id == "dev_1"
    assert [a.device_id for a in store.load()] == ["dev_2"]
    with pytest.raises(AccountNotFound):
        store.remove("dev_1")


def test_home_resolution() -> None:
    assert default_home({"TWOSTEP_AUTHENTICATOR_HOME": "/a", "XDG_CONFIG_HOME": "/x"}) == Path("/a")
    assert default_home({"XDG_CONFIG_HOME": "/x"}) == Path("/x/twostep-authenticator")
    assert default_home({}) == Path.home() / ".config" / "twostep-authenticator"


def test_select() -> None:
    one = account("dev_1", user="alice")
    mail = account("dev_2", user="bob@example.com")
    other_server = account("dev_3", user="alice", server="https://other.example.com")
    assert select([one], None) is one
    assert select([one, mail], "dev_2") is mail
    assert select([one, mail], "alice@default") is one
    assert select([one, mail], "bob@example.com@default") is mail
    with pytest.raises(AccountNotFound, match="several accounts"):
        select([one, mail], None)
    with pytest.raises(AccountNotFound, match="several servers"):
        select([one, other_server], "alice@default")
    with pytest.raises(AccountNotFound, match="no account 'carol@default'"):
        select([one], "carol@default")
    with pytest.raises(AccountNotFound, match="no accounts yet"):
        select([], None)
