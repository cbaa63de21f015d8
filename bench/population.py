"""The benchmark's tenant: N users, each with one HOTP ``oath_token``, and one integration.

Small populations go through the services (``create_user`` + ``enroll_oath_token``),
exactly as the CLI or the admin API would. Large ones (the 100,000-user memory run) are
bulk inserted with SQLAlchemy Core into the same tables, with the seed sealed exactly as
``EnrollService`` seals it; the first user is still created through the services and
every bulk row is checked against it (see ``_check_bulk_rows``), so the rows are the
rows the service writes.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from twostep.adapters.storage import tables
from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.entities import MethodKind, MethodStatus, MfaState, OtpParams, OtpType
from twostep.domain.names import name_key
from twostep.domain.ports.users import NewUser
from twostep.factors import otp
from twostep.services.admin import DEFAULT_TENANT, OPERATOR
from twostep.services.context import method_context
from twostep.services.enroll import TokenSpec

HOTP = OtpParams(type=OtpType.HOTP)
SEED_BYTES = 20
BULK_CHUNK = 5_000
SERVICE_LIMIT = 5_000  # "auto" setup uses the services up to this many users
# Failures are spread over many users; a locked user would answer ``user_locked``
# quickly and flatter the failure figures, so the tenant tolerates many failures.
BENCH_SETTINGS = {"max_failures": 100}


@dataclass
class BenchUser:
    name: str
    seed: bytes
    next_counter: int = 0  # the next HOTP counter the load generator will send

    def codes(self, first: int, count: int) -> list[str]:
        gen = otp.generator(self.seed, HOTP)
        return [gen.generate(c).decode("ascii") for c in range(first, first + count)]

    def wrong_code(self, lookahead: int = 10, margin: int = 10) -> str:
        """A six-digit code that matches no counter the server could accept now."""
        near = set(self.codes(max(self.next_counter - margin, 0), lookahead + 2 * margin + 1))
        for n in range(1_000_000):
            candidate = f"{n:06d}"
            if candidate not in near:
                return candidate
        raise AssertionError("unreachable: at most 31 codes are near")


@dataclass
class Population:
    app: App
    key: str  # the integration's bearer key
    users: list[BenchUser]
    tenant_id: int
    setup_seconds: float
    setup_mode: str

    def unlock_all(self) -> None:
        """What ``AdminService.unlock_user`` does, for every user of the tenant at once."""
        with self.app.storage.engine.begin() as conn:
            conn.execute(
                update(tables.users)
                .where(tables.users.c.tenant_id == self.tenant_id)
                .values(failed_count=0, locked_until=None)
            )

    def close(self) -> None:
        self.app.close()


def build_app(home: Path, database_url: str | None) -> App:
    env = {"TWOSTEP_HOME": str(home)}
    if database_url:
        env["TWOSTEP_DATABASE_URL"] = database_url
    return build(Config.from_env(env), upgrade=True)


def user_name(i: int) -> str:
    return f"bench-{i:06d}"


def populate(home: Path, database_url: str | None, count: int, mode: str) -> Population:
    app = build_app(home, database_url)
    tenant = app.admin.ensure_default_tenant()
    app.admin.update_settings(OPERATOR, DEFAULT_TENANT, BENCH_SETTINGS)
    _integration, key = app.admin.create_integration(OPERATOR, DEFAULT_TENANT, "bench")
    users = [BenchUser(user_name(i), secrets.token_bytes(SEED_BYTES)) for i in range(count)]
    use_service = mode == "service" or (mode == "auto" and count <= SERVICE_LIMIT)
    started = time.perf_counter()
    if use_service:
        for user in users:
            _enroll_via_service(app, user)
    else:
        _enroll_via_service(app, users[0])
        _bulk_insert(app, tenant.id, users[1:])
        _check_bulk_rows(app, users[0].name, users[1].name if count > 1 else None)
    elapsed = time.perf_counter() - started
    return Population(app, key, users, tenant.id, elapsed, "service" if use_service else "bulk")


def _enroll_via_service(app: App, user: BenchUser) -> None:
    app.admin.create_user(OPERATOR, DEFAULT_TENANT, NewUser(name=user.name))
    spec = TokenSpec(serial=f"S{user.name}", secret="hex:" + user.seed.hex(), params=HOTP)
    app.enroll.enroll_oath_token(OPERATOR, DEFAULT_TENANT, user.name, spec)


def _chunks(items: Sequence[BenchUser], size: int) -> Iterator[Sequence[BenchUser]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _bulk_insert(app: App, tenant_id: int, users: Sequence[BenchUser]) -> None:
    """The rows ``AdminService.create_user`` and ``EnrollService.enroll_oath_token`` write."""
    u, m = tables.users, tables.methods
    for chunk in _chunks(users, BULK_CHUNK):
        now = app.deps.clock.now()
        method_ids = {user.name: uuid.uuid4().hex for user in chunk}
        user_rows = [
            {
                "tenant_id": tenant_id,
                "name": user.name,
                "name_key": name_key(user.name),  # what lookups compare: unique per tenant
                "first_name": None,
                "last_name": None,
                "email": None,
                "phone": None,
                "mfa": MfaState.ENFORCED.value,  # enrolling makes an "enabled" user "enforced"
                "default_method_id": method_ids[user.name],
                "failed_count": 0,
                "created_at": now,
            }
            for user in chunk
        ]
        with app.storage.engine.begin() as conn:
            conn.execute(u.insert(), user_rows)
            found = conn.execute(
                select(u.c.name, u.c.id).where(
                    u.c.tenant_id == tenant_id, u.c.name.in_([x.name for x in chunk])
                )
            )
            ids: dict[str, int] = {name: user_id for name, user_id in found}
            method_rows: list[dict[str, Any]] = []
            for user in chunk:
                method_id = method_ids[user.name]
                method_rows.append(
                    {
                        "id": method_id,
                        "user_id": ids[user.name],
                        "tenant_id": tenant_id,
                        "kind": MethodKind.OATH_TOKEN.value,
                        "status": MethodStatus.ACTIVE.value,
                        "label": None,
                        "serial": f"S{user.name}",
                        "otp_type": HOTP.type.value,
                        "algorithm": HOTP.algorithm.value,
                        "digits": HOTP.digits,
                        "period": HOTP.period,
                        "seed": app.deps.secrets.seal(user.seed, method_context(method_id)),
                        "counter": 0,
                        "last_step": -1,
                        "drift": 0,
                        "created_at": now,
                        "confirmed_at": now,
                    }
                )
            conn.execute(m.insert(), method_rows)


# Columns that legitimately differ between two users' rows.
_USER_OWN = {"id", "name", "name_key", "created_at", "default_method_id"}
_METHOD_OWN = {"id", "user_id", "serial", "seed", "created_at", "confirmed_at"}


def _check_bulk_rows(app: App, reference: str, bulk: str | None) -> None:
    """Fail loudly if a bulk-inserted row differs from the service-written one."""
    if bulk is None:
        return
    u, m = tables.users, tables.methods
    with app.storage.engine.connect() as conn:
        rows = {}
        for name in (reference, bulk):
            user = conn.execute(select(u).where(u.c.name == name)).one()._asdict()
            method = conn.execute(select(m).where(m.c.user_id == user["id"])).one()._asdict()
            rows[name] = (user, method)
    (ref_user, ref_method), (new_user, new_method) = rows[reference], rows[bulk]
    for own, ref, new in ((_USER_OWN, ref_user, new_user), (_METHOD_OWN, ref_method, new_method)):
        differs = {k for k in ref if k not in own and ref[k] != new[k]}
        if differs:
            raise RuntimeError(f"bulk rows differ from the service's in {sorted(differs)}")
    if new_user["default_method_id"] != new_method["id"] or new_method["confirmed_at"] is None:
        raise RuntimeError("bulk user's default method is not its token")
    app.deps.secrets.open(new_method["seed"], method_context(new_method["id"]))
