"""Reading a vendor's token file and storing it: one path for the CLI and the API.

A refused file lists every problem at once: the rows the reader refused and, for the
rows it accepted, what storing them would refuse (a serial already stored, an unknown
user).
"""

from __future__ import annotations

from twostep.adapters.importers import read_csv, read_pskc
from twostep.bootstrap import App
from twostep.domain.entities import AdminKey
from twostep.domain.errors import InvalidInput
from twostep.domain.tokens import ImportProblem, ImportRefused, TokenRecord
from twostep.services.tokens import ImportSummary


def import_file(
    app: App,
    actor: AdminKey,
    tenant: str,
    data: bytes,
    *,
    fmt: str,
    key_hex: str | None = None,
    password: str | None = None,
    update: bool = False,
) -> ImportSummary:
    try:
        records = _read(data, fmt, key_hex, password)
    except ImportRefused as refused:
        more = app.tokens.problems_in_store(actor, tenant, refused.valid, update=update)
        raise ImportRefused(sorted([*refused.problems, *more], key=_order)) from None
    return app.tokens.import_records(actor, tenant, records, update=update)


def _read(data: bytes, fmt: str, key_hex: str | None, password: str | None) -> list[TokenRecord]:
    if fmt == "csv":
        return read_csv(data)
    try:
        key = bytes.fromhex(key_hex) if key_hex else None
    except ValueError as exc:
        raise InvalidInput("the PSKC key must be hex", field="key") from exc
    return read_pskc(data, key=key, password=password)


def _order(problem: ImportProblem) -> tuple[int, str]:
    return (problem.line if problem.line is not None else 0, problem.where)
