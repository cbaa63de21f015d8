"""Secrets at rest: AES-256-GCM bound to a context, a keyring for rotation, the key file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from twostep.adapters.storage.secretbox import (
    KEY_BYTES,
    AesGcmSecretBox,
    EnvKeyManager,
    FileKeyManager,
    KeyFile,
    Keyring,
    key_id,
    keyring_from_env,
    parse_key,
)
from twostep.domain.errors import SecretKeyError

OLD = bytes.fromhex("11" * 32)
NEW = bytes.fromhex("22" * 32)
SEED = b"12345678901234567890"
CONTEXT = "method:abc"


def box(*keys: bytes) -> AesGcmSecretBox:
    return AesGcmSecretBox(Keyring(list(keys)))


def flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class TestSealAndOpen:
    def test_a_sealed_value_opens_to_the_plaintext(self) -> None:
        b = box(NEW)
        assert b.open(b.seal(SEED, CONTEXT), CONTEXT) == SEED

    @pytest.mark.parametrize("plaintext", [b"", b"\x00", bytes(range(256)) * 4])
    def test_any_plaintext_round_trips(self, plaintext: bytes) -> None:
        b = box(NEW)
        assert b.open(b.seal(plaintext, CONTEXT), CONTEXT) == plaintext

    def test_the_layout_is_version_key_id_nonce_then_ciphertext_and_tag(self) -> None:
        sealed = box(NEW).seal(SEED, CONTEXT)
        assert sealed[:1] == b"\x01"
        assert sealed[1:5] == key_id(NEW)
        assert len(sealed) == 1 + 4 + 12 + len(SEED) + 16
        # Plain AES-256-GCM with the context as associated data: any implementation opens it.
        assert AESGCM(NEW).decrypt(sealed[5:17], sealed[17:], CONTEXT.encode()) == SEED

    def test_the_plaintext_does_not_appear_in_the_sealed_value(self) -> None:
        assert SEED not in box(NEW).seal(SEED, CONTEXT)

    def test_sealing_twice_gives_different_values(self) -> None:
        b = box(NEW)
        first, second = b.seal(SEED, CONTEXT), b.seal(SEED, CONTEXT)
        assert first != second
        assert first[5:17] != second[5:17]  # a fresh nonce every time

    def test_the_key_id_is_four_bytes_and_differs_between_keys(self) -> None:
        assert len(key_id(NEW)) == 4
        assert key_id(NEW) != key_id(OLD)
        assert key_id(NEW) == key_id(bytes(NEW))


class TestContextBinding:
    @pytest.mark.parametrize("other", ["method:abd", "method:ab", "method:abc ", "", "METHOD:abc"])
    def test_a_sealed_value_does_not_open_under_another_context(self, other: str) -> None:
        b = box(NEW)
        sealed = b.seal(SEED, CONTEXT)
        with pytest.raises(SecretKeyError, match="does not open"):
            b.open(sealed, other)

    def test_a_seed_copied_onto_another_method_does_not_open(self) -> None:
        b = box(NEW)
        alices = b.seal(b"alice's seed........", "method:alice-token")
        with pytest.raises(SecretKeyError):
            b.open(alices, "method:mallory-token")


class TestTampering:
    @pytest.mark.parametrize(
        "index",
        [5, 16, 17, 17 + len(SEED) - 1, 17 + len(SEED), -1],
        ids=[
            "nonce-first",
            "nonce-last",
            "ciphertext-first",
            "ciphertext-last",
            "tag-first",
            "tag-last",
        ],
    )
    def test_a_flipped_bit_is_detected(self, index: int) -> None:
        b = box(NEW)
        sealed = b.seal(SEED, CONTEXT)
        with pytest.raises(SecretKeyError, match="does not open"):
            b.open(flip(sealed, index), CONTEXT)

    def test_a_changed_key_id_names_a_key_the_server_does_not_have(self) -> None:
        b = box(NEW)
        with pytest.raises(SecretKeyError, match="does not have"):
            b.open(flip(b.seal(SEED, CONTEXT), 1), CONTEXT)

    def test_an_unknown_version_is_malformed(self) -> None:
        b = box(NEW)
        with pytest.raises(SecretKeyError, match="malformed"):
            b.open(b"\x02" + b.seal(SEED, CONTEXT)[1:], CONTEXT)

    @pytest.mark.parametrize("length", [0, 1, 5, 17, 32])
    def test_a_value_too_short_to_hold_a_tag_is_malformed(self, length: int) -> None:
        b = box(NEW)
        with pytest.raises(SecretKeyError, match="malformed"):
            b.open(b.seal(b"", CONTEXT)[:length], CONTEXT)

    def test_a_truncated_ciphertext_is_detected(self) -> None:
        b = box(NEW)
        with pytest.raises(SecretKeyError):
            b.open(b.seal(SEED, CONTEXT)[:-1], CONTEXT)

    def test_a_value_sealed_under_another_key_with_the_same_id_does_not_open(self) -> None:
        forged = b"\x01" + key_id(NEW) + AesGcmSecretBox(Keyring([OLD])).seal(SEED, CONTEXT)[5:]
        with pytest.raises(SecretKeyError, match="does not open"):
            box(NEW).open(forged, CONTEXT)


class TestKeyring:
    def test_a_keyring_with_an_old_key_opens_old_values(self) -> None:
        old_value = box(OLD).seal(SEED, CONTEXT)
        both = box(NEW, OLD)
        assert both.open(old_value, CONTEXT) == SEED
        assert both.needs_rotation(old_value)

    def test_new_values_are_sealed_under_the_first_key(self) -> None:
        sealed = box(NEW, OLD).seal(SEED, CONTEXT)
        assert sealed[1:5] == key_id(NEW)
        assert not box(NEW, OLD).needs_rotation(sealed)
        assert box(NEW).open(sealed, CONTEXT) == SEED

    def test_a_value_under_the_new_key_does_not_open_with_only_the_old_one(self) -> None:
        sealed = box(NEW, OLD).seal(SEED, CONTEXT)
        with pytest.raises(SecretKeyError, match="does not have"):
            box(OLD).open(sealed, CONTEXT)

    def test_after_the_old_key_is_retired_old_values_no_longer_open(self) -> None:
        old_value = box(OLD).seal(SEED, CONTEXT)
        with pytest.raises(SecretKeyError, match="does not have"):
            box(NEW).open(old_value, CONTEXT)

    def test_an_empty_keyring_is_refused(self) -> None:
        with pytest.raises(SecretKeyError, match="empty"):
            Keyring([])

    def test_dumps_and_loads_round_trip_current_first(self) -> None:
        ring = Keyring.loads(Keyring([NEW, OLD]).dumps())
        assert ring.keys == [NEW, OLD]
        assert ring.current == NEW

    def test_loads_skips_comments_and_blank_lines(self) -> None:
        text = f"# Twostep keys\n\n{NEW.hex()}\n   \n# retired soon\n{OLD.hex().upper()}\n"
        assert Keyring.loads(text).keys == [NEW, OLD]

    def test_loads_refuses_a_bad_line(self) -> None:
        with pytest.raises(SecretKeyError):
            Keyring.loads(f"{NEW.hex()}\nnot-a-key\n")


class TestParseKey:
    def test_64_hex_characters(self) -> None:
        assert parse_key("ab" * 32) == b"\xab" * 32
        assert parse_key("AB" * 32) == b"\xab" * 32
        assert parse_key(f"  {'ab' * 32}\n") == b"\xab" * 32

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "32 bytes"),
            ("ab" * 31, "32 bytes"),  # 31 bytes
            ("ab" * 33, "32 bytes"),
            ("ab" * 16, "32 bytes"),  # an AES-128 key is not enough
            ("zz" * 32, "64 hex characters"),
            ("a" * 63, "64 hex characters"),  # an odd number of digits
            ("0x" + "ab" * 31, "64 hex characters"),
            ("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA", "hex characters"),  # base64, not hex
        ],
    )
    def test_anything_else_is_refused(self, text: str, message: str) -> None:
        with pytest.raises(SecretKeyError, match=message):
            parse_key(text)

    def test_keyring_from_env_reads_current_first_comma_separated(self) -> None:
        ring = keyring_from_env(f"{NEW.hex()}, {OLD.hex()} ,")
        assert ring.keys == [NEW, OLD]

    def test_keyring_from_env_refuses_an_empty_value(self) -> None:
        with pytest.raises(SecretKeyError, match="empty"):
            keyring_from_env(" , ")

    def test_keyring_from_env_refuses_one_bad_key(self) -> None:
        with pytest.raises(SecretKeyError):
            keyring_from_env(f"{NEW.hex()},{OLD.hex()[:-2]}")


class TestKeyFile:
    def test_the_first_start_creates_a_key_file_readable_only_by_its_owner(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "home" / "secret.key"
        ring = KeyFile(path).load_or_create()
        assert mode(path) == 0o600
        assert len(ring.keys) == 1
        assert len(ring.current) == KEY_BYTES
        assert ring.current.hex() in path.read_text()

    def test_the_file_is_0600_even_under_a_permissive_umask(self, tmp_path: Path) -> None:
        previous = os.umask(0)
        try:
            path = tmp_path / "secret.key"
            KeyFile(path).load_or_create()
        finally:
            os.umask(previous)
        assert mode(path) == 0o600

    def test_the_next_start_reads_the_same_key(self, tmp_path: Path) -> None:
        path = tmp_path / "secret.key"
        first = KeyFile(path).load_or_create()
        assert KeyFile(path).load_or_create().keys == first.keys

    def test_two_installations_get_different_keys(self, tmp_path: Path) -> None:
        a = KeyFile(tmp_path / "a.key").load_or_create()
        b = KeyFile(tmp_path / "b.key").load_or_create()
        assert a.current != b.current

    @pytest.mark.parametrize("loose", [0o640, 0o604, 0o644, 0o660, 0o666, 0o610])
    def test_a_group_or_world_readable_file_is_refused(self, tmp_path: Path, loose: int) -> None:
        path = tmp_path / "secret.key"
        KeyFile(path).load_or_create()
        path.chmod(loose)
        with pytest.raises(SecretKeyError, match="chmod 600"):
            KeyFile(path).load_or_create()

    def test_a_file_readable_only_by_the_owner_is_accepted(self, tmp_path: Path) -> None:
        path = tmp_path / "secret.key"
        path.write_text(f"{NEW.hex()}\n")
        path.chmod(0o400)
        assert KeyFile(path).load_or_create().keys == [NEW]

    def test_write_replaces_the_file_whole_and_keeps_it_private(self, tmp_path: Path) -> None:
        path = tmp_path / "secret.key"
        KeyFile(path).write(Keyring([NEW, OLD]))
        assert mode(path) == 0o600
        assert KeyFile(path).load_or_create().keys == [NEW, OLD]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]  # no temp file left

    def test_a_running_box_picks_up_a_key_another_process_added(self, tmp_path: Path) -> None:
        key_file = KeyFile(tmp_path / "secret.key")
        running = AesGcmSecretBox(key_file.load_or_create(), reload=key_file)
        rotated = FileKeyManager(key_file).begin_rotation()  # as `twostep keys rotate-secrets`
        assert running.open(rotated.seal(SEED, CONTEXT), CONTEXT) == SEED


class TestFileKeyManager:
    def test_begin_rotation_puts_a_new_key_first_and_keeps_the_old(self, tmp_path: Path) -> None:
        key_file = KeyFile(tmp_path / "secret.key")
        old = key_file.load_or_create().current
        old_value = AesGcmSecretBox(Keyring([old])).seal(SEED, CONTEXT)

        rotating = FileKeyManager(key_file).begin_rotation()

        on_disk = key_file.load_or_create().keys
        assert len(on_disk) == 2
        assert on_disk[1] == old
        assert on_disk[0] != old
        assert mode(key_file.path) == 0o600
        assert rotating.needs_rotation(old_value)
        assert rotating.open(old_value, CONTEXT) == SEED
        resealed = rotating.seal(SEED, CONTEXT)
        assert resealed[1:5] == key_id(on_disk[0])
        assert not rotating.needs_rotation(resealed)

    def test_finish_rotation_retires_the_old_keys(self, tmp_path: Path) -> None:
        key_file = KeyFile(tmp_path / "secret.key")
        old = key_file.load_or_create().current
        manager = FileKeyManager(key_file)
        resealed = manager.begin_rotation().seal(SEED, CONTEXT)

        note = manager.finish_rotation()

        remaining = key_file.load_or_create().keys
        assert remaining != [old]
        assert len(remaining) == 1
        assert str(key_file.path) in note
        assert mode(key_file.path) == 0o600
        assert AesGcmSecretBox(Keyring(remaining)).open(resealed, CONTEXT) == SEED

    def test_a_rotation_begun_twice_keeps_every_key_until_it_finishes(self, tmp_path: Path) -> None:
        key_file = KeyFile(tmp_path / "secret.key")
        manager = FileKeyManager(key_file)
        first = manager.begin_rotation().seal(SEED, CONTEXT)  # a crash after phase 1
        second = manager.begin_rotation()
        assert len(key_file.load_or_create().keys) == 3
        assert second.open(first, CONTEXT) == SEED


class TestEnvKeyManager:
    def test_the_rotation_box_seals_under_the_first_key_and_opens_the_others(self) -> None:
        old_value = box(OLD).seal(SEED, CONTEXT)
        rotating = EnvKeyManager(keyring_from_env(f"{NEW.hex()},{OLD.hex()}")).begin_rotation()
        assert rotating.needs_rotation(old_value)
        assert rotating.open(old_value, CONTEXT) == SEED
        assert rotating.seal(SEED, CONTEXT)[1:5] == key_id(NEW)

    def test_finish_tells_the_operator_to_drop_the_old_keys(self) -> None:
        manager = EnvKeyManager(keyring_from_env(f"{NEW.hex()},{OLD.hex()}"))
        note = manager.finish_rotation()
        assert "remove the others" in note
        assert "TWOSTEP_SECRET_KEY" in note

    def test_finish_with_a_single_key_has_nothing_to_drop(self) -> None:
        note = EnvKeyManager(keyring_from_env(NEW.hex())).finish_rotation()
        assert "remove" not in note
        assert "TWOSTEP_SECRET_KEY" in note
