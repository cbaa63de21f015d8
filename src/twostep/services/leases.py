"""Leases: work that one node at a time does (a directory's sync), held in the database
until a deadline and renewed while the work goes on. A node that stops renewing (it
crashed, it lost the database) loses the lease when the deadline passes."""

from __future__ import annotations

import os
import secrets

from twostep.domain.ports.storage import Transaction
from twostep.services.context import Deps

LEASE_SECONDS = 120.0


class Lease:
    """One named lease, as this process would hold it (a holder id of its own)."""

    def __init__(self, deps: Deps, name: str, seconds: float = LEASE_SECONDS) -> None:
        self.deps = deps
        self.name = name
        self.holder = f"{deps.node.name[:40]}/{os.getpid()}/{secrets.token_hex(4)}"
        self.seconds = seconds

    def take(self) -> bool:
        """Take the lease if it is free or expired (or renew it); False: another holds it."""
        with self.deps.storage.transaction(write=True) as tx:
            return self.take_in(tx)

    def take_in(self, tx: Transaction) -> bool:
        now = self.deps.clock.now()
        return tx.leases.take(self.name, self.holder, now, now + self.seconds)

    def release(self) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tx.leases.release(self.name, self.holder)


def directory_lease(deps: Deps, directory_id: str, seconds: float = LEASE_SECONDS) -> Lease:
    return Lease(deps, f"directory:{directory_id}", seconds)
