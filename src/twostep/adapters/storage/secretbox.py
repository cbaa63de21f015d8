"""Secrets at rest: AES-256-GCM under an operator-held keyring.

A sealed value is ``version (1) | key id (4) | nonce (12) | ciphertext+tag``. The
context (for example ``method:<id>``) is authenticated data, so a sealed seed copied
onto another row does not open. The key id lets old and new keys live side by side
while ``twostep keys rotate-secrets`` re-encrypts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from twostep.domain.errors import SecretKeyError

_VERSION = b"\x01"
KEY_BYTES = 32


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"twostep-key-id" + key).digest()[:4]


def parse_key(text: str) -> bytes:
    """A key is 64 hex characters (``openssl rand -hex 32``)."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise SecretKeyError("the secret key must be 64 hex characters") from exc
    if len(key) != KEY_BYTES:
        raise SecretKeyError("the secret key must be 32 bytes (64 hex characters)")
    return key


class Keyring:
    """The current key first, then older keys still accepted for opening."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise SecretKeyError("the keyring is empty")
        self.keys = keys

    @property
    def current(self) -> bytes:
        return self.keys[0]

    def dumps(self) -> str:
        return "".join(k.hex() + "\n" for k in self.keys)

    @classmethod
    def loads(cls, text: str) -> Keyring:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        return cls([parse_key(ln) for ln in lines])


class KeyFile:
    """The keyring on disk: created on first start with mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load_or_create(self) -> Keyring:
        if not self.path.exists():
            self.write(Keyring([secrets.token_bytes(KEY_BYTES)]))
        mode = self.path.stat().st_mode & 0o077
        if mode:
            raise SecretKeyError(f"{self.path} must not be readable by group or others (chmod 600)")
        return Keyring.loads(self.path.read_text())

    def write(self, keyring: Keyring) -> None:
        """Atomic replace: a crash leaves the old file or the new one, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("# Twostep secret keys: current first. Keep a copy offline.\n")
            handle.write(keyring.dumps())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)


class AesGcmSecretBox:
    def __init__(self, keyring: Keyring, reload: KeyFile | None = None) -> None:
        self._lock = threading.Lock()
        self._reload = reload
        self._stamp = self._file_stamp()
        self._install(keyring)

    def _file_stamp(self) -> tuple[int, int] | None:
        if self._reload is None:
            return None
        try:
            stat = self._reload.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def _install(self, keyring: Keyring) -> None:
        self._current_id = key_id(keyring.current)
        self._ciphers = {key_id(k): AESGCM(k) for k in keyring.keys}
        self._current = self._ciphers[self._current_id]
        # A separate key for digests: the encryption key itself is never used for two jobs.
        self._mac_keys = {key_id(k): _mac_key(k) for k in keyring.keys}

    def seal(self, plaintext: bytes, context: str) -> bytes:
        # Sealing is rare (enrollment), so check whether another process rotated the
        # keyring: a new seed must go under the newest key, never one about to retire.
        if self._reload is not None and self._file_stamp() != self._stamp:
            with self._lock:
                self._stamp = self._file_stamp()
                self._install(self._reload.load_or_create())
        nonce = secrets.token_bytes(12)
        body = self._current.encrypt(nonce, plaintext, context.encode())
        return _VERSION + self._current_id + nonce + body

    def open(self, sealed: bytes, context: str) -> bytes:
        if len(sealed) < 1 + 4 + 12 + 16 or sealed[:1] != _VERSION:
            raise SecretKeyError("a stored secret is malformed")
        cipher = self._ciphers.get(sealed[1:5])
        if cipher is None:
            cipher = self._reload_for(sealed[1:5])
        try:
            return cipher.decrypt(sealed[5:17], sealed[17:], context.encode())
        except InvalidTag as exc:
            raise SecretKeyError("a stored secret does not open with the configured key") from exc

    def needs_rotation(self, sealed: bytes) -> bool:
        return sealed[1:5] != self._current_id

    def digest(self, data: bytes, context: str) -> bytes:
        mac = hmac.new(self._mac_keys[self._current_id], context.encode() + b"\0" + data, "sha256")
        return self._current_id + mac.digest()

    def digest_matches(self, digest: bytes, data: bytes, context: str) -> bool:
        key = self._mac_keys.get(digest[:4])
        if key is None:
            return False
        mac = hmac.new(key, context.encode() + b"\0" + data, "sha256")
        return hmac.compare_digest(digest[4:], mac.digest())

    def _reload_for(self, wanted: bytes) -> AESGCM:
        # Another process rotated the keyring: pick up the new file once.
        with self._lock:
            if wanted not in self._ciphers and self._reload is not None:
                self._stamp = self._file_stamp()
                self._install(self._reload.load_or_create())
            cipher = self._ciphers.get(wanted)
        if cipher is None:
            raise SecretKeyError("a stored secret was sealed with a key this server does not have")
        return cipher


class FileKeyManager:
    """Rotation for the key file under TWOSTEP_HOME."""

    def __init__(self, key_file: KeyFile) -> None:
        self.key_file = key_file

    def begin_rotation(self) -> AesGcmSecretBox:
        keyring = self.key_file.load_or_create()
        rotated = Keyring([secrets.token_bytes(KEY_BYTES), *keyring.keys])
        self.key_file.write(rotated)
        return AesGcmSecretBox(rotated)

    def finish_rotation(self) -> str:
        keyring = self.key_file.load_or_create()
        self.key_file.write(Keyring([keyring.current]))
        return f"new key written to {self.key_file.path}; old keys retired"


class EnvKeyManager:
    """Rotation when keys come from TWOSTEP_SECRET_KEY: the operator puts the new key
    first (``new,old``), runs the rotation, then drops the old key from the variable."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def begin_rotation(self) -> AesGcmSecretBox:
        return AesGcmSecretBox(self.keyring)

    def finish_rotation(self) -> str:
        if len(self.keyring.keys) == 1:
            return "all secrets are under the key in TWOSTEP_SECRET_KEY"
        return "all secrets are under the first key: remove the others from TWOSTEP_SECRET_KEY"


def keyring_from_env(value: str) -> Keyring:
    return Keyring([parse_key(part) for part in value.split(",") if part.strip()])


def _mac_key(key: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"twostep code digest").derive(key)
