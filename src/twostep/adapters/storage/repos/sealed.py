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
    signin_settings,
)
from twostep.domain.sealing import (
    SealedValue,
    device_context,
    directory_context,
    gateway_context,
    method_context,
    radius_client_context,
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
}


def _key(table: Table) -> Column[object]:
    """The row's id: its one-column primary key (``id``, or ``integration_id``)."""
    [key] = table.primary_key.columns
    return key


class SqlSealedRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def each(self) -> Iterator[SealedValue]:
        for place, (table, column, context) in _PLACES.items():
            key = _key(table)
            rows = self.conn.execute(
                select(key, column).where(column.is_not(None)).order_by(key)
            ).all()
            for row_id, sealed in rows:
                yield SealedValue(place, str(row_id), context(str(row_id)), bytes(sealed))

    def replace(self, value: SealedValue, sealed: bytes) -> None:
        table, column, _context = _PLACES[value.place]
        key = _key(table)
        row_id = key.type.python_type(value.row_id)  # an integer id compares as one
        self.conn.execute(update(table).where(key == row_id).values({column.name: sealed}))

    def any(self) -> bool:
        return next(self.each(), None) is not None
