"""The tenant's pool of hardware OATH tokens: import (all or nothing), list, assign,
unassign, mark lost, delete.

A pooled token is an ``oath_token`` method without a user; assigning it registers it
for the user. Seeds are sealed to the method id, which never changes, so a token keeps
its sealed seed when it moves between the pool and users.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from twostep.domain.entities import (
    AdminKey,
    Method,
    MethodStatus,
    Role,
    Tenant,
    User,
)
from twostep.domain.errors import Conflict, Forbidden, MethodNotFound
from twostep.domain.ports.methods import NewMethod
from twostep.domain.ports.storage import Transaction
from twostep.domain.token_imports import STORING, ImportProgress, no_progress
from twostep.domain.tokens import ImportProblem, ImportRefused, TokenFile, TokenRecord
from twostep.factors import oath_token
from twostep.services import admin_log, enroll
from twostep.services.admin import tenant_for, user_for
from twostep.services.context import Deps, method_context
from twostep.services.token_expiry import Expiry

_KIND = oath_token.KIND.kind.value  # the pool holds hardware tokens

BATCH = 1000  # rows per insert: the import streams instead of holding every row

Changes = dict[str, list[Any]]  # the admin trail's {"field": [before, after]}


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import took in: counts only, never a seed."""

    imported: int = 0
    replaced: int = 0
    assigned: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    by_manufacturer: dict[str, int] = field(default_factory=dict)
    layout: str | None = None  # the file's layout, as read
    skipped: tuple[str, ...] = ()  # keys or rows the file holds that Twostep does not use
    warnings: tuple[str, ...] = ()  # expired or expiring tokens, the reader's notes


class TokenPool:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def import_records(
        self,
        actor: AdminKey,
        tenant_name: str,
        records: Iterable[TokenRecord],
        *,
        update: bool = False,
        refuse_expiring: bool = False,
        read: TokenFile | None = None,
        progress: ImportProgress = no_progress,
        stored: Callable[[Transaction, ImportSummary], None] | None = None,
    ) -> ImportSummary:
        """Store every record or none: any problem (a serial already stored, unless
        ``update`` replaces a token nobody holds; an unknown user in ``upn``; with
        ``refuse_expiring``, a token expired or ending within 30 days) refuses the whole
        import, listing every problem, and the transaction rolls back. ``read`` is the
        file the records came from: its layout, skipped keys and notes go in the summary.
        ``progress`` is told each record checked and sealed (a job's page shows it);
        ``stored`` is called in the transaction, before it commits (a job records its
        ending there: both or neither)."""
        now = self.deps.clock.now()
        expiry = Expiry(now, refuse_expiring)
        problems: list[ImportProblem] = []
        by_type, by_maker = Counter[str](), Counter[str]()
        imported = replaced = assigned = 0
        total = len(records) if isinstance(records, Sequence) else 0
        progress(STORING, 0, total)  # before the transaction: its writes may wait for it
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            pooled = tx.tokens.by_serial(tenant.id, _KIND)
            users: dict[str, User | None] = {}
            batch: list[NewMethod] = []
            holders: list[tuple[User, str]] = []
            for done, record in enumerate(records, 1):
                progress(STORING, done, total)
                problem = _store_problem(tx, tenant.id, record, pooled, users, update)
                problem = expiry.check(record) or problem
                if problem is not None:
                    problems.append(problem)
                    continue
                holder = users.get(record.upn) if record.upn is not None else None
                existing = pooled.get(record.serial)
                if problems:
                    continue  # the import is refused anyway: only look for more problems
                method_id = existing.id if existing else uuid.uuid4().hex
                new = _new_method(self.deps, record, method_id, tenant.id, holder)
                if existing is not None:
                    if not tx.tokens.replace(method_id, new):  # assigned meanwhile
                        problems.append(
                            _problem(record, f"serial {record.serial} was just assigned")
                        )
                        continue
                    replaced += 1
                else:
                    batch.append(new)
                    imported += 1
                if holder is not None:
                    holders.append((holder, method_id))
                    assigned += 1
                by_type[record.params.type.value] += 1
                by_maker[record.manufacturer or "unknown"] += 1
                if len(batch) >= BATCH:
                    tx.tokens.add_many(batch, now)
                    batch = []
            if problems:
                raise ImportRefused(problems)  # rolls back every batch already written
            tx.tokens.add_many(batch, now)
            for holder, method_id in holders:
                tx.users.registered(holder.id, method_id)
            summary = ImportSummary(
                imported,
                replaced,
                assigned,
                dict(by_type),
                dict(by_maker),
                layout=read.layout if read else None,
                skipped=tuple(str(s) for s in read.skipped) if read else (),
                warnings=(*(read.warnings if read else ()), *expiry.warnings()),
            )
            _log_import(tx, self.deps, actor, tenant, summary, update)
            if stored is not None:
                stored(tx, summary)
        return summary

    def problems_in_store(
        self,
        actor: AdminKey,
        tenant_name: str,
        records: Iterable[TokenRecord],
        *,
        update: bool = False,
    ) -> list[ImportProblem]:
        """What storing these records would refuse (stored serials, unknown users),
        without storing anything: to list every problem of a file in one answer."""
        with self.deps.storage.transaction() as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            stored = tx.tokens.by_serial(tenant.id, _KIND)
            users: dict[str, User | None] = {}
            found: list[ImportProblem] = []
            for record in records:
                problem = _store_problem(tx, tenant.id, record, stored, users, update)
                if problem is not None:
                    found.append(problem)
            return found

    def list(
        self,
        actor: AdminKey,
        tenant_name: str,
        *,
        assigned: bool | None = None,
        manufacturer: str | None = None,
        serial_prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Sequence[Method]:
        with self.deps.storage.transaction() as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            return tx.tokens.page(
                tenant.id,
                _KIND,
                assigned=assigned,
                manufacturer=manufacturer,
                serial_prefix=serial_prefix,
                after=after,
                limit=max(1, min(limit, 1000)),
            )

    def get(self, actor: AdminKey, tenant_name: str, serial: str) -> Method:
        with self.deps.storage.transaction() as tx:
            return _token(tx, tenant_for(tx, actor, tenant_name).id, serial)

    def assign(self, actor: AdminKey, tenant_name: str, serial: str, user_name: str) -> Method:
        def change(tx: Transaction, tenant: Tenant, token: Method) -> Changes:
            user = user_for(tx, tenant, user_name)
            if not tx.tokens.assign(token.id, user.id, self.deps.clock.now()):
                raise Conflict(f"token {serial} is not in the pool (assigned or lost)")
            tx.users.registered(user.id, token.id)
            return {"user": [None, user.name]}

        return self._change(actor, tenant_name, serial, "token.assign", change)

    def unassign(self, actor: AdminKey, tenant_name: str, serial: str) -> Method:
        """Back to the pool; the user's default moves to another active method."""

        def change(tx: Transaction, _tenant: Tenant, token: Method) -> Changes:
            holder = _holder_name(tx, token)
            if token.user_id is None or not tx.tokens.unassign(token.id):
                raise Conflict(f"token {serial} is not assigned")
            _forget_default(tx, token)
            return {"user": [holder, None]}

        return self._change(actor, tenant_name, serial, "token.unassign", change)

    def mark_lost(self, actor: AdminKey, tenant_name: str, serial: str) -> Method:
        """A lost token verifies nothing until it is deleted; it stays listed for audit."""

        def change(tx: Transaction, _tenant: Tenant, token: Method) -> Changes:
            tx.tokens.set_status(token.id, MethodStatus.LOST)
            _forget_default(tx, token)
            return {}

        return self._change(actor, tenant_name, serial, "token.lost", change)

    def resync(
        self, actor: AdminKey, tenant_name: str, serial: str, first_code: str, second_code: str
    ) -> Method:
        """Bring a drifted token back from two consecutive codes (both are spent)."""

        def change(tx: Transaction, tenant: Tenant, token: Method) -> Changes:
            if token.user_id is None:
                raise MethodNotFound(f"token {serial!r} is not assigned to anyone")
            return enroll.resync(tx, self.deps, tenant, token, first_code, second_code)

        return self._change(actor, tenant_name, serial, "token.resync", change)

    def delete(self, actor: AdminKey, tenant_name: str, serial: str) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            token = _token(tx, tenant.id, serial)
            gone = admin_log.method_fields(token) | {"user": _holder_name(tx, token)}
            tx.methods.delete(token.id)
            _forget_default(tx, token)
            changed = admin_log.changes(gone, None)
            admin_log.record(tx, self.deps, actor, tenant, "token.delete", serial, changed)

    def _change(
        self,
        actor: AdminKey,
        tenant_name: str,
        serial: str,
        action: str,
        change: Callable[[Transaction, Tenant, Method], Changes],
    ) -> Method:
        """Find the token, change it, record it, and answer it as it now is: one
        transaction. The status, when it moved, is recorded with what ``change`` says."""
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            before = _token(tx, tenant.id, serial)
            changed = change(tx, tenant, before)
            after = _token(tx, tenant.id, serial)
            status = {"status": before.status.value}, {"status": after.status.value}
            changed = {**admin_log.changes(*status), **changed}
            admin_log.record(tx, self.deps, actor, tenant, action, serial, changed)
            return after

    def export(self, actor: AdminKey, tenant_name: str) -> Sequence[TokenRecord]:
        """Every token of the tenant with its seed, to move them to another deployment.
        Seeds leave the server here only: global admins, and the caller encrypts them."""
        if actor.role is not Role.GLOBAL_ADMIN:
            raise Forbidden("only a global admin may export token seeds")
        out: list[TokenRecord] = []
        with self.deps.storage.transaction() as tx:  # a read: writers need not wait for it
            tenant = tenant_for(tx, actor, tenant_name)
            after: str | None = None
            while page := tx.tokens.page(tenant.id, _KIND, after=after, limit=1000):
                for token in page:
                    sealed = tx.methods.sealed_seed(token.id)
                    if sealed is None or token.otp is None or token.serial is None:
                        continue
                    seed = self.deps.secrets.open(sealed, method_context(token.id))
                    out.append(
                        TokenRecord(
                            serial=token.serial,
                            seed=seed,
                            params=token.otp,
                            counter=token.counter,
                            drift=token.drift,
                            manufacturer=token.manufacturer,
                            model=token.model,
                            valid_from=token.valid_from,
                            valid_until=token.valid_until,
                        )
                    )
                after = page[-1].serial
        with self.deps.storage.transaction(write=True) as tx:
            # Seeds leaving the server: recorded though nothing changed (the count only).
            counts = {"tokens": [None, len(out)]}
            admin_log.record(tx, self.deps, actor, tenant, "token.export", None, counts)
        return out


def _log_import(
    tx: Transaction,
    deps: Deps,
    actor: AdminKey,
    tenant: Tenant,
    summary: ImportSummary,
    update: bool,
) -> None:
    """One event for the whole file: counts, never a serial's seed."""
    counts = {
        name: [None, value]
        for name, value in asdict(summary).items()
        if name not in ("skipped", "warnings")
    }
    counts["skipped"] = [None, len(summary.skipped)]
    counts["update"] = [None, update]
    admin_log.record(tx, deps, actor, tenant, "token.import", None, counts)


def _store_problem(
    tx: Transaction,
    tenant_id: int,
    record: TokenRecord,
    stored: Mapping[str, Method],
    users: dict[str, User | None],
    update: bool,
) -> ImportProblem | None:
    """Why this record cannot be stored: an unknown user, or a serial already stored
    (an update may replace a token still in the pool, never one somebody holds)."""
    if record.upn is not None:
        if record.upn not in users:
            users[record.upn] = tx.users.by_name(tenant_id, record.upn)
        if users[record.upn] is None:
            return _problem(record, f"no user {record.upn!r} in the tenant")
    existing = stored.get(record.serial)
    if existing is not None and not (update and existing.user_id is None):
        why = "is assigned to a user" if existing.user_id else "is already stored"
        hint = "" if existing.user_id else " (import with update to replace it)"
        return _problem(record, f"serial {record.serial} {why}{hint}")
    return None


def _holder_name(tx: Transaction, token: Method) -> str | None:
    holder = tx.users.by_id(token.user_id) if token.user_id is not None else None
    return holder.name if holder is not None else None


def _token(tx: Transaction, tenant_id: int, serial: str) -> Method:
    token = tx.tokens.find(tenant_id, _KIND, serial)
    if token is None:
        raise MethodNotFound(f"no token with serial {serial!r}")
    return token


def _forget_default(tx: Transaction, token: Method) -> None:
    """If the token was its holder's default, another active method takes its place."""
    if token.user_id is None:
        return
    user = tx.users.by_id(token.user_id)
    if user is None or user.default_method_id != token.id:
        return
    rest = [
        m
        for m in tx.methods.for_user(user.id)
        if m.status is MethodStatus.ACTIVE and m.id != token.id
    ]
    tx.users.set_default_method(user.id, rest[0].id if rest else None)


def _new_method(
    deps: Deps, record: TokenRecord, method_id: str, tenant_id: int, holder: User | None
) -> NewMethod:
    return NewMethod(
        id=method_id,
        user_id=holder.id if holder else None,
        tenant_id=tenant_id,
        kind=oath_token.KIND.kind,
        status=MethodStatus.ACTIVE if holder else MethodStatus.UNASSIGNED,
        sealed_seed=deps.secrets.seal(record.seed, method_context(method_id)),
        otp=record.params,
        serial=record.serial,
        counter=record.counter,
        drift=record.drift,
        manufacturer=record.manufacturer,
        model=record.model,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
    )


def _problem(record: TokenRecord, reason: str) -> ImportProblem:
    return ImportProblem(reason, line=record.line, key_id=record.key_id, serial=record.serial)
