"""Secret-key rotation: re-encrypt every stored secret under a new key: seeds and PINs,
gateway credentials, RADIUS shared secrets, devices' push channels."""

from __future__ import annotations

from dataclasses import dataclass

from twostep.domain.entities import AdminKey
from twostep.domain.ports.secrets import KeyManager, SecretBox
from twostep.domain.ports.storage import Transaction
from twostep.services import admin_log
from twostep.services.context import Deps


@dataclass(frozen=True, slots=True)
class RotationReport:
    reencrypted: int
    note: str


def reseal(tx: Transaction, box: SecretBox) -> int:
    """Re-encrypt, in ``tx``, every stored secret not under the box's current key; how many."""
    count = 0
    for value in list(tx.sealed.each()):
        if box.needs_rotation(value.sealed):
            plain = box.open(value.sealed, value.context)
            tx.sealed.replace(value, box.seal(plain, value.context))
            count += 1
    return count


def rotate_secrets(deps: Deps, keys: KeyManager, actor: AdminKey) -> RotationReport:
    """Phase 1 adds a new current key (old keys still open), phase 2 re-encrypts every
    secret in one transaction, phase 3 retires the old keys. A crash in between leaves
    every secret readable: before phase 2 commits under the old key, after under the new.
    The admin trail records the rotation with the second pass, which completes it."""
    box = keys.begin_rotation()
    count = 0
    # A second pass catches a secret that a running server sealed under the old key just
    # before it noticed the new key file.
    for last in (False, True):
        with deps.storage.transaction(write=True) as tx:
            count += reseal(tx, box)
            if last:
                counted = {"reencrypted": [None, count]}
                admin_log.record(tx, deps, actor, None, "secret_key.rotate", None, counted)
    return RotationReport(count, keys.finish_rotation())
