"""Migrating an Azure MFA Server document: one path for the CLI and the API. The document
is read whole (all or nothing), then planned, and applied unless it is a dry run."""

from __future__ import annotations

from twostep.adapters.importers.mfa_server import DocumentFormat, read_mfa_server
from twostep.bootstrap import App
from twostep.domain.entities import AdminKey
from twostep.services.migration import MigrationReport, MigrationService


def migrate_document(
    app: App,
    actor: AdminKey,
    tenant: str,
    data: bytes,
    *,
    fmt: DocumentFormat | None = None,
    dry_run: bool = False,
    reregister: bool = True,
) -> MigrationReport:
    records = read_mfa_server(data, fmt)
    service = MigrationService(app.deps)
    return service.migrate(actor, tenant, records, dry_run=dry_run, reregister=reregister)
