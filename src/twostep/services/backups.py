"""What the admin trail and the secret key say about backups and restores."""

from __future__ import annotations

from twostep.domain.entities import AdminKey
from twostep.services import admin_log
from twostep.services.context import Deps


def backed_up(deps: Deps, actor: AdminKey, destination: str, revision: str) -> None:
    """Record a backup taken of this database (the file's name, never its content)."""
    with deps.storage.transaction(write=True) as tx:
        changed = {"revision": [None, revision]}
        admin_log.record(tx, deps, actor, None, "database.backup", destination, changed)


def restored(deps: Deps, actor: AdminKey, source: str, revision: str, now: str) -> int:
    """Open every stored secret with the configured key, then record the restore in the
    restored database's own trail, in one transaction; the count of secrets. A backup
    restored without its key stops here with ``secret_key_error``, having changed nothing
    that is live (the caller restores into a copy first)."""
    with deps.storage.transaction(write=True) as tx:
        count = 0
        for value in tx.sealed.each():
            deps.secrets.open(value.sealed, value.context)
            count += 1
        changed = {"revision": [revision, now], "secrets": [None, count]}
        admin_log.record(tx, deps, actor, None, "database.restore", source, changed)
    return count
