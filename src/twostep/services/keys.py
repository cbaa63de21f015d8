"""Secret-key rotation: re-encrypt every stored secret under a new key: seeds and PINs,
gateway credentials, RADIUS shared secrets, devices' push channels."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from twostep.domain.ports import KeyManager, Storage, Transaction
from twostep.services.context import device_context, gateway_context, method_context
from twostep.services.radius_clients import secret_context


class _Sealed(Protocol):
    def iter_sealed(self) -> Iterator[tuple[str, bytes]]: ...

    def replace_sealed(self, key: str, sealed: bytes, /) -> None: ...


def _stores(tx: Transaction) -> list[tuple[_Sealed, Callable[[str], str]]]:
    """Every table that holds sealed secrets, with the context each is bound to."""
    return [
        (tx.methods, method_context),
        (tx.gateways, gateway_context),
        (tx.radius_clients, secret_context),
        (tx.devices, device_context),
    ]


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
            for store, context_of in _stores(tx):
                for key, sealed in list(store.iter_sealed()):
                    if box.needs_rotation(sealed):
                        context = context_of(key)
                        store.replace_sealed(key, box.seal(box.open(sealed, context), context))
                        count += 1
    return RotationReport(count, keys.finish_rotation())
