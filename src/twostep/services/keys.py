"""Secret-key rotation: re-encrypt every stored seed under a new key."""

from __future__ import annotations

from dataclasses import dataclass

from twostep.domain.ports import KeyManager, Storage
from twostep.services.context import method_context


@dataclass(frozen=True, slots=True)
class RotationReport:
    reencrypted: int
    note: str


def rotate_secrets(storage: Storage, keys: KeyManager) -> RotationReport:
    """Phase 1 adds a new current key (old keys still open), phase 2 re-encrypts every
    seed in one transaction, phase 3 retires the old keys. A crash in between leaves
    every seed readable: before phase 2 commits under the old key, after under the new."""
    box = keys.begin_rotation()
    count = 0
    # A second pass catches a seed that a running server sealed under the old key just
    # before it noticed the new key file.
    for _pass in range(2):
        with storage.transaction(write=True) as tx:
            for method_id, sealed in list(tx.methods.iter_sealed()):
                if box.needs_rotation(sealed):
                    context = method_context(method_id)
                    tx.methods.replace_sealed(
                        method_id, box.seal(box.open(sealed, context), context)
                    )
                    count += 1
    return RotationReport(count, keys.finish_rotation())
