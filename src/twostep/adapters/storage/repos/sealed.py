"""Every secret at rest, wherever it lives, for re-encryption under a new key: one place
knows the sealed columns and what each is bound to."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import Column, Connection, Table, select, update

from twostep.adapters.storage.tables import (
    devices,
    directories,
    gateways,
    methods,
    radius_clients,
    radius_upstreams,
    signin_settings,
)
from twostep.domain.sealing import (
    SealedValue,
    device_context,
    directory_context,
    gateway_context,
    method_context,
    radius_client_context,
    radius_upstream_context,
    signin_context,
)

# place -> (table, sealed column, the context a row's value is bound to)
_PLACES: dict[str, tuple[Table, Column[bytes], Callable[[str], str]]] = {
    "methods.seed": (methods, methods.c.seed, method_context),
    "methods.pin": (methods, methods.c.pin, method_context),
    "gateways.secrets": (gateways, gateways.c.secrets, gateway_context),
    "radius_clients.secret": (radius_clients, radius_clients.c.secret, radius_client_context),
    "devices.push_channel": (devices, devices.c.push_channel, device_context),
    "directories.secrets": (directories, directories.c.secrets, directory_context),
    "signin_settings.secret": (signin_settings, signin_settings.c.secret, signin_context),
    # Keyed by client and position: the row id is "<client_id>:<position>".
    "radius_upstreams.secret": (
        radius_upstreams,
        radius_upstreams.c.secret,
        lambda row_id: radius_upstream_context(*_split(row_id)),
    ),
}


def _split(row_id: str) -> tuple[str, int]:
    client_id, _, position = row_id.rpartition(":")
    return client_id, int(position)


def _keys(table: Table) -> list[Column[object]]:
    """The row's id: its primary key's columns (``id``, ``integration_id``, or
    ``client_id`` and ``position``), written joined by ":"."""
    return list(table.primary_key.columns)


class SqlSealedRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def each(self) -> Iterator[SealedValue]:
        for place, (table, column, context) in _PLACES.items():
            keys = _keys(table)
            rows = self.conn.execute(
                select(*keys, column).where(column.is_not(None)).order_by(*keys)
            ).all()
            for *ids, sealed in rows:
                row_id = ":".join(str(i) for i in ids)
                yield SealedValue(place, row_id, context(row_id), bytes(sealed))

    def replace(self, value: SealedValue, sealed: bytes) -> None:
        table, column, _context = _PLACES[value.place]
        keys = _keys(table)
        parts = [value.row_id] if len(keys) == 1 else value.row_id.rsplit(":", len(keys) - 1)
        # An integer id compares as one.
        where = [key == key.type.python_type(part) for key, part in zip(keys, parts, strict=True)]
        self.conn.execute(update(table).where(*where).values({column.name: sealed}))

    def any(self) -> bool:
        return next(self.each(), None) is not None
