"""The accounts file: every activated account with its private key and offline-code secret.

One JSON file, ``accounts.json``, in ``$TWOSTEP_AUTHENTICATOR_HOME``, else
``$XDG_CONFIG_HOME/twostep-authenticator``, else ``~/.config/twostep-authenticator``.
The directory is 0700 and the file 0600; a change writes a new file beside the old one and
renames it over, so a crash leaves either the old or the new list, never half of one.
Changes from two processes at once are serialised by a lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twostep.authenticator.errors import AccountNotFound, KeystoreError, ProtocolError
from twostep.authenticator.model import Totp
from twostep.authenticator.signing import DeviceKey, KeyType

FILE_NAME = "accounts.json"
FORMAT_VERSION = 1
DIR_MODE = 0o700
FILE_MODE = 0o600


def default_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("TWOSTEP_AUTHENTICATOR_HOME"):
        return Path(env["TWOSTEP_AUTHENTICATOR_HOME"])
    config = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "twostep-authenticator"


@dataclass(frozen=True, slots=True)
class Account:
    server: str  # base URL: device calls go to <server>/v1/devices/...
    device_id: str
    tenant: str
    user: str
    issuer: str
    key_type: KeyType
    private_key: str  # PKCS#8 PEM
    totp: Totp
    name: str = ""
    push: str = "pull"
    created_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)  # fields of a newer client, kept

    @property
    def label(self) -> str:
        return f"{self.user}@{self.tenant}"

    def key(self) -> DeviceKey:
        key = DeviceKey.from_pem(self.private_key)
        if key.key_type is not self.key_type:
            raise KeystoreError(f"account {self.device_id}: the key is not {self.key_type}")
        return key

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "server": self.server,
            "device_id": self.device_id,
            "tenant": self.tenant,
            "user": self.user,
            "issuer": self.issuer,
            "name": self.name,
            "key_type": str(self.key_type),
            "private_key": self.private_key,
            "totp": self.totp.to_json(),
            "push": self.push,
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, data: object) -> Account:
        if not isinstance(data, dict):
            raise KeystoreError("an account in the accounts file is not an object")
        known = {
            "server", "device_id", "tenant", "user", "issuer", "name",
            "key_type", "private_key", "totp", "push", "created_at",
        }  # fmt: skip
        try:
            return cls(
                server=str(data["server"]),
                device_id=str(data["device_id"]),
                tenant=str(data["tenant"]),
                user=str(data["user"]),
                issuer=str(data.get("issuer", "")),
                key_type=KeyType(data["key_type"]),
                private_key=str(data["private_key"]),
                totp=Totp.from_json(data["totp"]),
                name=str(data.get("name", "")),
                push=str(data.get("push", "pull")),
                created_at=float(data.get("created_at", 0.0)),
                extra={k: v for k, v in data.items() if k not in known},
            )
        except (KeyError, ValueError, TypeError, ProtocolError) as exc:
            raise KeystoreError(f"an account in the accounts file is malformed: {exc}") from exc


class Keystore:
    def __init__(self, home: Path | None = None) -> None:
        self.home = home if home is not None else default_home()
        self.path = self.home / FILE_NAME

    def load(self) -> list[Account]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise KeystoreError(f"cannot read {self.path}: {exc.strerror}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise KeystoreError(f"{self.path} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
            raise KeystoreError(f"{self.path} is not an accounts file")
        version = data.get("version", FORMAT_VERSION)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise KeystoreError(f"{self.path} was written by a newer twostep-authenticator")
        return [Account.from_json(item) for item in data["accounts"]]

    def add(self, account: Account) -> None:
        with self._locked():
            accounts = [a for a in self.load() if a.device_id != account.device_id]
            self._write([*accounts, account])

    def remove(self, device_id: str) -> Account:
        with self._locked():
            accounts = self.load()
            gone = [a for a in accounts if a.device_id == device_id]
            if not gone:
                raise AccountNotFound(f"no account with device id {device_id}")
            self._write([a for a in accounts if a.device_id != device_id])
            return gone[0]

    def select(self, selector: str | None) -> Account:
        """The account ``selector`` names (a device id or ``user@tenant``); with a single
        account stored, ``None`` names it."""
        return select(self.load(), selector)

    def prepare(self) -> None:
        """Fail now, not after an activation, if the accounts file cannot be kept."""
        self.load()
        self._ensure_home()
        if not os.access(self.home, os.W_OK | os.X_OK):
            raise KeystoreError(f"cannot write in {self.home}")

    def _ensure_home(self) -> None:
        try:
            self.home.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            os.chmod(self.home, DIR_MODE)  # mkdir's mode is masked by the umask
        except OSError as exc:
            raise KeystoreError(f"cannot create {self.home}: {exc.strerror}") from exc

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_home()
        fd = os.open(self.home / ".lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _write(self, accounts: list[Account]) -> None:
        payload = {"version": FORMAT_VERSION, "accounts": [a.to_json() for a in accounts]}
        # mkstemp creates the file 0600 whatever the umask.
        fd, tmp = tempfile.mkstemp(dir=self.home, prefix=".accounts-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(payload, out, indent=2)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, self.path)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise KeystoreError(f"cannot write {self.path}: {exc.strerror}") from exc
            raise
        _fsync_dir(self.home)


def select(accounts: list[Account], selector: str | None) -> Account:
    if selector is None:
        if len(accounts) == 1:
            return accounts[0]
        if not accounts:
            raise AccountNotFound(
                "no accounts yet: activate one with `twostep-authenticator activate URL CODE`"
            )
        raise AccountNotFound(f"several accounts: name one of {_choices(accounts)}")
    by_id = [a for a in accounts if a.device_id == selector]
    if by_id:
        return by_id[0]
    by_label = [a for a in accounts if a.label == selector]
    if len(by_label) == 1:
        return by_label[0]
    if by_label:
        ids = ", ".join(a.device_id for a in by_label)
        raise AccountNotFound(f"{selector} is on several servers: name a device id ({ids})")
    raise AccountNotFound(f"no account {selector!r}; the accounts are {_choices(accounts)}")


def _choices(accounts: list[Account]) -> str:
    if not accounts:
        return "none"
    return ", ".join(f"{a.label} ({a.device_id})" for a in accounts)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
