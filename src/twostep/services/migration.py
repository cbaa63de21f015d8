"""Moving users in from Azure MFA Server: a plan (dry run) that says, per user, what
would be created, merged or skipped and why; and applying it, all or nothing, in one
transaction. Applying the same document twice changes nothing the second time: every
user then reports ``unchanged``.

OATH seeds are sealed to their method id like every other seed; no report, log or admin
event ever carries one (nor a full phone number: they are masked).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from twostep.domain.entities import (
    AdminKey,
    Method,
    MethodKind,
    MethodStatus,
    MfaState,
    OtpAlgorithm,
    OtpParams,
    OtpType,
    Tenant,
    User,
)
from twostep.domain.migration import MfaServerUser, MigrationProblem, MigrationRefused
from twostep.domain.names import name_key
from twostep.domain.ports.methods import NewMethod
from twostep.domain.ports.migrations import MigratedUser
from twostep.domain.ports.storage import Transaction
from twostep.services import admin_log
from twostep.services import migration_plan as planning
from twostep.services.admin import tenant_for
from twostep.services.context import Deps, method_context
from twostep.services.migration_plan import Action, NewPhoneMethod, NewToken, UserPlan

ACTION = "migration.mfa_server"  # the admin trail's action
BATCH = 1000  # methods per insert
_PAGE = 1000  # users read per query


@dataclass(frozen=True, slots=True)
class Entry:
    """One user in the report: what happened (or would), and why. Never a secret."""

    place: str
    user: str
    action: str
    changes: dict[str, list[Any]]
    methods: tuple[str, ...]
    default: str | None
    reregister: tuple[str, ...]
    notes: tuple[str, ...]
    reason: str | None


@dataclass(frozen=True, slots=True)
class MigrationReport:
    tenant: str
    dry_run: bool
    users: int
    created: int
    merged: int
    unchanged: int
    skipped: int
    methods_added: int
    reregister: int  # created users marked to register again
    entries: tuple[Entry, ...]

    def counts(self) -> dict[str, int]:
        return {
            "users": self.users,
            "created": self.created,
            "merged": self.merged,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "methods_added": self.methods_added,
            "reregister": self.reregister,
        }


class MigrationService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def migrate(
        self,
        actor: AdminKey,
        tenant_name: str,
        records: Sequence[MfaServerUser],
        *,
        dry_run: bool = False,
        reregister: bool = True,
    ) -> MigrationReport:
        """Plan the migration of ``records``; unless ``dry_run``, apply it in the same
        transaction. Any problem (a serial stored for someone else, a number the tenant
        does not call) refuses the whole document, naming each record."""
        with self.deps.storage.transaction(write=not dry_run) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            plans = self._plan(tx, tenant, records, reregister)
            if not dry_run:
                self._apply(tx, tenant, plans)
            report = _report(tenant.name, dry_run, plans)
            if not dry_run:
                counts = {name: [None, value] for name, value in report.counts().items()}
                admin_log.record(tx, self.deps, actor, tenant, ACTION, None, counts)
        return report

    def _plan(
        self,
        tx: Transaction,
        tenant: Tenant,
        records: Sequence[MfaServerUser],
        reregister: bool,
    ) -> list[UserPlan]:
        kind = MethodKind.OATH_TOKEN.value
        sealed = tx.migrations.sealed_seeds(tenant.id, kind)
        by_user = tx.migrations.methods_by_user(tenant.id)

        def seed_of(token: Method) -> bytes | None:
            found = sealed.get(token.id)
            return (
                None if found is None else self.deps.secrets.open(found, method_context(token.id))
            )

        state = planning.Tenant(
            users=_users(tx, tenant.id),
            methods_of=lambda user_id: by_user.get(user_id, ()),
            tokens=tx.tokens.by_serial(tenant.id, kind),
            seed_of=seed_of,
            allowed_calling_codes=tenant.settings.phone.allowed_calling_codes,
        )
        plans: list[UserPlan] = []
        problems: list[MigrationProblem] = []
        for record in records:
            planned = planning.plan_user(
                record, name_key(record.username), state, reregister=reregister
            )
            if isinstance(planned, MigrationProblem):
                problems.append(planned)
            else:
                plans.append(planned)
        if problems:
            raise MigrationRefused(problems)
        return plans

    def _apply(self, tx: Transaction, tenant: Tenant, plans: Sequence[UserPlan]) -> None:
        now = self.deps.clock.now()
        created = [p for p in plans if p.action is Action.CREATED]
        merged = [p for p in plans if p.action is Action.MERGED]
        billed: list[int] = []
        for start in range(0, len(created), BATCH):
            billed.extend(self._create(tx, tenant, created[start : start + BATCH], now))
        for plan in merged:
            billed.extend(self._merge(tx, tenant, plan, now))
        for start in range(0, len(billed), BATCH):  # a bounded IN list per statement
            tx.billing.record_users(billed[start : start + BATCH], now)  # billing's history

    def _create(
        self, tx: Transaction, tenant: Tenant, plans: Sequence[UserPlan], now: float
    ) -> list[int]:
        """A batch of new users in one statement, then their methods in another."""
        made: list[list[NewMethod]] = []
        users: list[MigratedUser] = []
        for plan in plans:
            news = [self._method(tenant.id, None, m) for m in plan.methods]
            default = next(
                (new.id for new, m in zip(news, plan.methods, strict=True) if m is plan.default),
                None,
            )
            fields = dict(plan.fields)
            users.append(
                MigratedUser(
                    name=plan.record.username,
                    first_name=fields.get("first_name"),
                    last_name=fields.get("last_name"),
                    email=fields.get("email"),
                    phone=fields.get("phone"),
                    language=fields.get("language"),
                    mfa=MfaState.ENFORCED if news else MfaState.ENABLED,
                    groups=tuple(fields.get("groups", ())),
                    default_method_id=default,
                    registration_required_at=now if plan.reregister else None,
                )
            )
            made.append(news)
        ids = tx.migrations.add_users(tenant.id, users, now)
        methods = [
            replace(new, user_id=user_id)
            for user_id, news in zip(ids, made, strict=True)
            for new in news
        ]
        tx.tokens.add_many(methods, now)
        return ids

    def _merge(self, tx: Transaction, tenant: Tenant, plan: UserPlan, now: float) -> list[int]:
        """Fill the user's empty fields, add the methods they lack, and a default if they
        have none; the user id when their MFA state changed (billing's history)."""
        existing = plan.existing
        assert existing is not None
        fields = dict(plan.fields)
        groups = fields.pop("groups", ())
        user = replace(existing, **fields)
        if plan.methods and user.mfa is MfaState.ENABLED:
            user = replace(user, mfa=MfaState.ENFORCED)
        if user != existing:
            tx.users.update(user)
        if groups:
            tx.users.set_groups(user.id, groups)
        news = [self._method(tenant.id, user.id, m) for m in plan.methods]
        tx.tokens.add_many(news, now)
        for new, method in zip(news, plan.methods, strict=True):
            if method is plan.default:
                tx.users.set_default_method(user.id, new.id)
        return [user.id] if user.mfa is not existing.mfa else []

    def _method(
        self, tenant_id: int, user_id: int | None, method: NewPhoneMethod | NewToken
    ) -> NewMethod:
        method_id = uuid.uuid4().hex
        if isinstance(method, NewPhoneMethod):
            return NewMethod(
                id=method_id,
                user_id=user_id,
                tenant_id=tenant_id,
                kind=method.kind,
                status=MethodStatus.ACTIVE,
                sealed_seed=None,
                otp=None,
                label=method.label,
                phone=method.phone.e164,
                extension=method.phone.extension,
            )
        oath = method.oath
        return NewMethod(
            id=method_id,
            user_id=user_id,
            tenant_id=tenant_id,
            kind=MethodKind.OATH_TOKEN,
            status=MethodStatus.ACTIVE,
            sealed_seed=self.deps.secrets.seal(oath.seed, method_context(method_id)),
            otp=OtpParams(OtpType.TOTP, OtpAlgorithm.SHA1, 6, oath.period),
            label="MFA Server OATH token",
            serial=oath.serial,
        )


def _users(tx: Transaction, tenant_id: int) -> dict[str, User]:
    """Every user of the tenant by lookup key, a page at a time."""
    found: dict[str, User] = {}
    after: str | None = None
    while page := tx.users.list(tenant_id, after, _PAGE):
        found.update((name_key(user.name), user) for user in page)
        after = page[-1].name
        if len(page) < _PAGE:
            break
    return found


def _report(tenant: str, dry_run: bool, plans: Sequence[UserPlan]) -> MigrationReport:
    entries = tuple(
        Entry(
            place=plan.record.place,
            user=plan.record.username,
            action=plan.action.value,
            changes=plan.changes if plan.action is not Action.UNCHANGED else {},
            methods=tuple(str(m) for m in plan.methods),
            default=str(plan.default) if plan.default is not None else None,
            reregister=plan.reregister,
            notes=plan.notes,
            reason=plan.reason,
        )
        for plan in plans
    )
    by_action = {action: sum(p.action is action for p in plans) for action in Action}
    return MigrationReport(
        tenant=tenant,
        dry_run=dry_run,
        users=len(plans),
        created=by_action[Action.CREATED],
        merged=by_action[Action.MERGED],
        unchanged=by_action[Action.UNCHANGED],
        skipped=by_action[Action.SKIPPED],
        methods_added=sum(len(p.methods) for p in plans),
        reregister=sum(bool(p.reregister) for p in plans),
        entries=entries,
    )
