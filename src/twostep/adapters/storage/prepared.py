"""Hot statements compiled once per dialect and run on the driver's cursor.

SQLAlchemy's execution path (events, execution context, result objects) costs tens of
microseconds per statement: more than SQLite takes to run one. The few statements every
validation runs are compiled here once, to the dialect's own SQL and parameter style,
and executed directly. Everything else goes through SQLAlchemy as usual.
"""

from __future__ import annotations

import operator
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class _Compiled(NamedTuple):
    sql: str
    # The parameters in position order, for qmark drivers (None: the driver takes names).
    positions: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None
    defaults: dict[str, Any]


def _positions(order: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values of ``order``'s names as a tuple, picked in C (itemgetter) rather than by a
    generator: a validation's four statements have up to 22 parameters."""
    if len(order) <= 1:  # itemgetter of one name gives the value, not a tuple
        return lambda values: tuple(values[name] for name in order)
    return operator.itemgetter(*order)


def row_type(name: str, columns: Sequence[str]) -> Any:
    """A named tuple of ``columns``, to read a part of a hot statement's row by attribute
    as the mappers do (``row.name``): made from a slice in C, where a dict and then a
    SimpleNamespace cost microseconds. Typed Any: the fields are known once loaded."""
    return namedtuple(name, columns)


class Prepared:
    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None):
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
            assert isinstance(compiled, SQLCompiler)
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            positions = _positions(order) if order is not None else None
            # Literals in the statement (``count + 1``, ``SET x = 0``) are parameters too.
            found = _Compiled(str(compiled), positions, dict(compiled.params))
            self._by_dialect[dialect.name] = found
        return found

    def _execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        sql, positions, defaults = self._compiled(conn.dialect)
        values = {**defaults, **params} if defaults else params
        args: Any = positions(values) if positions is not None else values
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(sql, args)
        return cursor

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run in ``conn``'s transaction; the number of rows written."""
        cursor = self._execute(conn, params)
        count = int(cursor.rowcount)
        cursor.close()
        return count

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run in ``conn``'s transaction; every row, as tuples in the statement's column order."""
        cursor = self._execute(conn, params)
        found = list(cursor.fetchall())
        cursor.close()
        return found
