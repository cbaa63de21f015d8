"""Reading a vendor's token file and storing it: one path for the CLI and the API.

The file's layout is decided from its content (``read_token_file``) unless the operator
names it. A refused file lists every problem at once: the rows the reader refused and,
for the rows it accepted, what storing them would refuse (a serial already stored, an
unknown user).
"""

from __future__ import annotations

from dataclasses import dataclass

from twostep.adapters.importers import Format, MacOptions, read_token_file
from twostep.bootstrap import App
from twostep.domain.entities import AdminKey
from twostep.domain.errors import InvalidInput
from twostep.domain.token_imports import ImportProgress, no_progress
from twostep.domain.tokens import ImportProblem, ImportRefused, TokenFile
from twostep.services.token_import_jobs import Stored
from twostep.services.tokens import ImportSummary


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the operator decided for this file."""

    fmt: Format | None = None  # None: decided from the content
    key_hex: str | None = None
    password: str | None = None
    update: bool = False
    refuse_expiring: bool = False
    plaintext_mac: bool = False
    no_mac: bool = False


def import_file(
    app: App,
    actor: AdminKey,
    tenant: str,
    data: bytes,
    options: ImportOptions,
    progress: ImportProgress = no_progress,
    stored: Stored | None = None,
) -> ImportSummary:
    """``progress`` and ``stored``: a job's (services/token_import_jobs.py)."""
    try:
        read = _read(data, options, progress)
    except ImportRefused as refused:
        more = app.tokens.problems_in_store(actor, tenant, refused.valid, update=options.update)
        raise ImportRefused(sorted([*refused.problems, *more], key=_order)) from None
    return app.tokens.import_records(
        actor,
        tenant,
        read.records,
        update=options.update,
        refuse_expiring=options.refuse_expiring,
        read=read,
        progress=progress,
        stored=stored,
    )


def _read(data: bytes, options: ImportOptions, progress: ImportProgress) -> TokenFile:
    try:
        key = bytes.fromhex(options.key_hex) if options.key_hex else None
    except ValueError as exc:
        raise InvalidInput("the PSKC key must be hex", field="key") from exc
    return read_token_file(
        data,
        options.fmt,
        key=key,
        password=options.password,
        options=MacOptions(plaintext_mac=options.plaintext_mac, no_mac=options.no_mac),
        progress=progress,
    )


def _order(problem: ImportProblem) -> tuple[int, str]:
    return (problem.line if problem.line is not None else 0, problem.where)
