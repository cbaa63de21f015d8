"""One batch of directory entries taken into Twostep, in one transaction: users created,
updated (renamed, linked), disabled or enabled as the directory has them, and phone
methods made from their numbers. A dry run decides the same and writes nothing.

The batch's counts are merged only when its transaction commits, so a batch retried
after a conflict with a concurrent change is not counted twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from twostep.domain.directory import Directory, DirectoryEntry
from twostep.domain.entities import DisabledReason, MethodKind, Tenant, User
from twostep.domain.errors import TwostepError
from twostep.domain.ports.directory import DirectoryUser
from twostep.domain.ports.methods import NewMethod
from twostep.domain.ports.storage import Transaction
from twostep.factors import registry
from twostep.factors.base import EnrollContext
from twostep.services.context import Deps, method_context
from twostep.services.directory_entries import Mapped, Passed, changed_fields, map_entry, same_name
from twostep.services.directory_progress import LIST_LIMIT, Change, Problem, SyncCounts

# Disabled by the directory: a sync that finds the entry active enables them again. An
# admin's disabling (DisabledReason.ADMIN) is never undone by a sync.
BY_DIRECTORY = {DisabledReason.DIRECTORY_REMOVED.value, DisabledReason.DIRECTORY_DISABLED.value}
CONFLICT = "conflict"


@dataclass(slots=True)
class Outcome:
    """What a batch did (or a dry run would do): merged into the run once committed."""

    counts: SyncCounts = field(default_factory=SyncCounts)
    problems: list[Problem] = field(default_factory=list)
    passed_over: list[str] = field(default_factory=list)  # external ids
    created: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    disabled: list[Change] = field(default_factory=list)
    enabled: list[Change] = field(default_factory=list)


@dataclass(slots=True)
class Lists:
    """A dry run's answer: the first LIST_LIMIT of each kind of change."""

    created: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    disabled: list[Change] = field(default_factory=list)
    enabled: list[Change] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        for name in ("created", "changed", "disabled", "enabled"):
            kept: list[Change] = getattr(self, name)
            kept.extend(getattr(outcome, name)[: max(0, LIST_LIMIT - len(kept))])


class Batch:
    """Applies entries for one sync run of one directory (see DirectorySync)."""

    def __init__(self, deps: Deps, tenant: Tenant, directory: Directory, *, dry_run: bool):
        self.deps = deps
        self.tenant = tenant
        self.directory = directory
        self.dry_run = dry_run
        # A dry run writes nothing, so it remembers what it would have written: names it
        # would have taken (name key -> external id), across batches.
        self.planned: dict[str, str] = {}

    def apply(self, tx: Transaction, entries: Sequence[DirectoryEntry]) -> Outcome:
        out = Outcome()
        mapped: list[tuple[DirectoryEntry, Mapped | Passed]] = [(e, map_entry(e)) for e in entries]
        ids = [m.user.external_id for _e, m in mapped if isinstance(m, Mapped)]
        keys = [m.key for _e, m in mapped if isinstance(m, Mapped)]
        by_id = tx.directory_users.by_external_ids(self.directory.id, ids) if ids else {}
        by_key = tx.directory_users.by_name_keys(self.tenant.id, keys) if keys else {}
        prefill: list[User] = []
        new: list[tuple[DirectoryUser, str | None]] = []  # created at the end, in one go
        for entry, found in mapped:
            out.counts.seen += 1
            if isinstance(found, Passed):
                self._pass(out, entry, found.reason, found.detail, None)
                continue
            user = self._entry(tx, out, entry, found, by_id, by_key, new)
            if user is not None and user.disabled_at is None and user.phone:
                prefill.append(user)
        if new and not self.dry_run:
            now = self.deps.clock.now()
            made = tx.directory_users.create(self.tenant.id, self.directory.id, new, now)
            tx.billing.record_users(made, now)  # per-user billing's history
            made_ids = {w.external_id: made_id for (w, _r), made_id in zip(new, made, strict=True)}
            prefill = [u if u.id else replace(u, id=made_ids[u.external_id or ""]) for u in prefill]
        if prefill and self.directory.settings.phone_methods:
            self._prefill(tx, out, prefill)
        return out

    # -- one entry ---------------------------------------------------------------------

    def _entry(
        self,
        tx: Transaction,
        out: Outcome,
        entry: DirectoryEntry,
        found: Mapped,
        by_id: dict[str, User],
        by_key: dict[str, User],
        new: list[tuple[DirectoryUser, str | None]],
    ) -> User | None:
        """Create (into ``new``), link or update the entry's user; its state follows. The
        user as it is now (for the phone methods; id 0 until created), or None when the
        entry was passed over."""
        wanted = found.user
        if found.bad_phone:
            out.counts.bad_phones += 1
        user = by_id.get(wanted.external_id)
        if user is None and self.planned.get(found.key) == wanted.external_id:
            return None  # a dry run's second sighting of an entry it would create
        if user is not None and user.id == 0:
            return None  # a second sighting, in this batch, of an entry being created
        if user is None:
            holder = self._holder(by_key, found.key, wanted.external_id)
            if isinstance(holder, str):
                self._pass(out, entry, CONFLICT, holder, wanted.name)
                return None
            if holder is None:
                return self._create(out, found, by_id, by_key, new)
            user = holder  # made by hand: linked to the entry below
        elif not same_name(user, found.key):
            holder = self._holder(by_key, found.key, wanted.external_id)
            if holder is not None and (isinstance(holder, str) or holder.id != user.id):
                # The new name is taken: keep the old one, take the rest (a disabled entry
                # is disabled here too), and say so.
                detail = holder if isinstance(holder, str) else f"{holder.name!r} exists"
                self._pass(out, entry, CONFLICT, f"renamed in the directory, but {detail}", None)
                wanted = replace(wanted, name=user.name)
        fields = changed_fields(user, wanted, self.directory.id)
        if fields:
            out.counts.changed += 1
            out.changed.append(Change(wanted.name, wanted.dn, fields))
            if not self.dry_run:
                tx.directory_users.update(user.id, self.directory.id, wanted)
        user = _as(user, wanted, self.directory.id)
        by_id[wanted.external_id] = user
        by_key[found.key] = user
        return self._state(tx, out, user, found.disabled)

    def _holder(self, by_key: dict[str, User], key: str, external_id: str) -> User | str | None:
        """Who has the name: nobody (None), a user made by hand (to link), or why the
        entry cannot have it (a conflict)."""
        holder = by_key.get(key)
        if holder is None:
            planned = self.planned.get(key) if self.dry_run else None
            if planned is not None and planned != external_id:
                return "another entry of this directory takes this name in this sync"
            return None
        if holder.directory_id is None:
            return holder
        if holder.directory_id == self.directory.id and holder.external_id == external_id:
            return holder
        if holder.directory_id == self.directory.id:
            return f"another entry of this directory has the name {holder.name!r}"
        return f"a user of another directory has the name {holder.name!r}"

    def _create(
        self,
        out: Outcome,
        found: Mapped,
        by_id: dict[str, User],
        by_key: dict[str, User],
        new: list[tuple[DirectoryUser, str | None]],
    ) -> User:
        wanted = found.user
        reason = DisabledReason.DIRECTORY_DISABLED.value if found.disabled else None
        now = self.deps.clock.now()
        out.counts.created += 1
        out.created.append(Change(wanted.name, wanted.dn))
        if found.disabled:
            out.counts.disabled += 1
            out.disabled.append(Change(wanted.name, wanted.dn))
        new.append((wanted, reason))
        if self.dry_run:
            self.planned[found.key] = wanted.external_id
        blank = User(id=0, tenant_id=self.tenant.id, name=wanted.name)
        user = _with_state(_as(blank, wanted, self.directory.id), now if reason else None, reason)
        by_id[wanted.external_id] = user
        by_key[found.key] = user
        return user

    def _state(self, tx: Transaction, out: Outcome, user: User, disabled: bool) -> User:
        """Disabled in the directory: disabled here. Active there: enabled here, unless an
        admin disabled the user."""
        now = self.deps.clock.now()
        if disabled and user.disabled_at is None:
            reason = DisabledReason.DIRECTORY_DISABLED.value
            if self.dry_run or tx.users.set_disabled(user.id, now, reason):
                out.counts.disabled += 1
                out.disabled.append(Change(user.name, user.dn))
            return _with_state(user, now, reason)
        if not disabled and user.disabled_at is not None and user.disabled_reason in BY_DIRECTORY:
            if self.dry_run or tx.users.set_disabled(user.id, None, None):
                out.counts.enabled += 1
                out.enabled.append(Change(user.name, user.dn))
            return _with_state(user, None, None)
        return user

    def _pass(
        self, out: Outcome, entry: DirectoryEntry, reason: str, detail: str, name: str | None
    ) -> None:
        if reason == CONFLICT:
            out.counts.conflicts += 1
        else:
            out.counts.skipped += 1
        out.problems.append(Problem(dn=entry.dn, reason=reason, detail=detail, user=name))
        if entry.external_id:
            out.passed_over.append(entry.external_id)

    # -- phone methods ------------------------------------------------------------------

    def _prefill(self, tx: Transaction, out: Outcome, users: list[User]) -> None:
        """A method of each configured phone kind for users who have none of that kind
        (made as EnrollService makes them: the kind checks the number for the tenant)."""
        existing = [u.id for u in users if u.id]
        kinds = tx.directory_users.method_kinds(existing) if existing else {}
        for user in users:
            if user.registration_required_at is not None:
                continue  # an admin asked the user to register again: not for them
            has = kinds.get(user.id, set())
            for kind in self.directory.settings.phone_kinds():
                if kind not in has:
                    self._method(tx, out, user, kind)

    def _method(self, tx: Transaction, out: Outcome, user: User, kind: MethodKind) -> None:
        assert user.phone is not None
        label = f"directory {self.directory.name}"
        try:
            draft = registry.kind(kind).enroll(
                {"phone": user.phone, "label": label},
                EnrollContext(self.tenant.settings, user.name),
            )
        except TwostepError as exc:
            out.counts.methods_refused += 1
            detail = f"{kind.value}: {exc.message}"
            out.problems.append(Problem(user.dn or "", "method_refused", detail, user.name))
            return
        out.counts.methods_added += 1
        if self.dry_run:
            return
        method_id = uuid.uuid4().hex
        pin = (
            self.deps.secrets.seal(draft.pin.encode(), method_context(method_id))
            if draft.pin
            else None
        )
        method = tx.methods.add(
            NewMethod(
                id=method_id,
                user_id=user.id,
                tenant_id=self.tenant.id,
                kind=kind,
                status=draft.status,
                sealed_seed=None,
                otp=None,
                label=draft.label,
                phone=draft.phone,
                sealed_pin=pin,
            ),
            self.deps.clock.now(),
        )
        tx.users.registered(user.id, method.id)


def _as(user: User, wanted: DirectoryUser, directory_id: str) -> User:
    return replace(
        user,
        name=wanted.name,
        first_name=wanted.first_name,
        last_name=wanted.last_name,
        email=wanted.email,
        phone=wanted.phone,
        dn=wanted.dn,
        groups=wanted.groups,
        external_id=wanted.external_id,
        directory_id=directory_id,
    )


def _with_state(user: User, at: float | None, reason: str | None) -> User:
    return replace(user, disabled_at=at, disabled_reason=reason)
