"""A backup taken while a real server accepts codes restores elsewhere into a database that
validates: its one-time markers and its audit log are of the same instant (codes accepted
before the backup stay used, the next ones are accepted once), and it opens only with its
own secret key, refusing clearly with another."""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import subprocess
import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import missing
from tests.support import postgres
from tests.support.cli import twostep
from tests.support.servers import serving
from twostep.bootstrap import build
from twostep.config import Config
from twostep.domain.entities import OtpParams, OtpType
from twostep.domain.ports.users import NewUser
from twostep.factors import otp
from twostep.services.admin import OPERATOR
from twostep.services.enroll import TokenSpec

USERS = 4
HOTP = OtpParams(type=OtpType.HOTP)

pytestmark = pytest.mark.slow


class Load:
    """One thread per user submitting its token's next code, in order, until stopped."""

    def __init__(self, url: str, key: str, seeds: dict[str, bytes]) -> None:
        self.url, self.key, self.seeds = url, key, seeds
        self.results: Counter[str] = Counter()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(u,)) for u in seeds]

    def _run(self, user: str) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=30) as client:
            counter = 0
            while not self.stop.is_set() and counter < 2000:
                code = otp.hotp(self.seeds[user], HOTP, counter)
                r = client.post("/v1/validate", json={"user": user, "code": code})
                body = r.json()
                self.results[f"{r.status_code}:{body.get('result')}:{body.get('reason')}"] += 1
                counter += 1

    def accepted(self) -> int:
        return self.results["200:accept:None"]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def wait_for(condition: object, what: str, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def accepts_in(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT user_name, COUNT(*) FROM audit_events WHERE result = 'accept' "
            "GROUP BY user_name"
        ).fetchall()
    conn.close()
    return {str(user): int(count) for user, count in rows}


def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Config, str]:
    """A TWOSTEP_HOME holding its SQLite database, and its key (set for the commands)."""
    key_hex = secrets.token_hex(32)
    monkeypatch.setenv("TWOSTEP_SECRET_KEY", key_hex)
    monkeypatch.delenv("TWOSTEP_DATABASE_URL", raising=False)
    home = tmp_path / "live"
    return Config.from_env({"TWOSTEP_HOME": str(home), "TWOSTEP_SECRET_KEY": key_hex}), key_hex


def test_a_backup_under_load_restores_and_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, key_hex = live(tmp_path, monkeypatch)
    env = {"TWOSTEP_HOME": str(config.storage.home), "TWOSTEP_SECRET_KEY": key_hex}
    app = build(config, upgrade=True)
    app.admin.ensure_default_tenant()
    _integration, key = app.admin.create_integration(OPERATOR, "default", "vpn")
    seeds = {f"user{i}": secrets.token_bytes(20) for i in range(USERS)}
    for i, (user, seed) in enumerate(seeds.items()):
        app.admin.create_user(OPERATOR, "default", NewUser(user))
        app.enroll.enroll_oath_token(
            OPERATOR, "default", user, TokenSpec(f"S{i}", "hex:" + seed.hex(), HOTP)
        )
    app.close()
    archive = tmp_path / "backups" / "twostep.db"
    archive.parent.mkdir()

    with serving(env, workers=2) as (url,), Load(url, key, seeds) as load:
        wait_for(lambda: load.accepted() >= 20, "the load accepts codes")
        out = twostep(config.storage.home, "db", "backup", str(archive))
        assert "backup written to" in out
        during = load.accepted()
        wait_for(lambda: load.accepted() >= during + 20, "the load goes on after the backup")
        refused = twostep(config.storage.home, "db", "restore", str(archive), ok=False)
        assert "a server seems to be running" in refused
    # Every code was accepted once, none failed while the backup read the database.
    assert set(load.results) == {"200:accept:None"}, load.results

    # Elsewhere, with the same key: restored, and every seed opens.
    elsewhere = tmp_path / "elsewhere"
    out = twostep(elsewhere, "db", "restore", str(archive))
    assert f"{USERS} stored secret(s) open with the configured secret key" in out
    restored = accepts_in(elsewhere / "twostep.db")
    assert sum(restored.values()) >= 20
    assert sum(restored.values()) < load.accepted()

    with serving({"TWOSTEP_HOME": str(elsewhere), "TWOSTEP_SECRET_KEY": key_hex}) as (url,):
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:

            def validate(user: str, counter: int) -> str:
                code = otp.hotp(seeds[user], HOTP, counter)
                r = client.post("/v1/validate", json={"user": user, "code": code})
                assert r.status_code == 200, r.text
                return f"{r.json()['result']}:{r.json()['reason']}"

            for user in seeds:
                # The audit log and the one-time marker are of one instant: the n accepts
                # it records used counters 0..n-1; counter n is the next to be accepted.
                taken = restored.get(user, 0)
                if taken:
                    assert validate(user, taken - 1) == "reject:code_replayed", user
                assert validate(user, taken) == "accept:None", user
                assert validate(user, taken) == "reject:code_replayed", user


def test_a_backup_restored_with_another_key_is_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _key_hex = live(tmp_path, monkeypatch)
    app = build(config, upgrade=True)
    app.admin.ensure_default_tenant()
    app.admin.create_user(OPERATOR, "default", NewUser("alice"))
    app.enroll.enroll_oath_token(
        OPERATOR, "default", "alice", TokenSpec("S1", "hex:" + "31" * 20, HOTP)
    )
    app.close()
    archive = tmp_path / "twostep-backup.db"
    twostep(config.storage.home, "db", "backup", str(archive))

    # Another key: refused, nothing restored.
    monkeypatch.setenv("TWOSTEP_SECRET_KEY", secrets.token_hex(32))
    other = tmp_path / "other"
    out = twostep(other, "db", "restore", str(archive), ok=False)
    assert "Error: [secret_key_error] a stored secret " in out
    assert "Nothing was restored: a backup opens only with the secret key" in out
    assert "Traceback" not in out
    assert not (other / "twostep.db").exists()
    assert [p.name for p in other.iterdir() if p.name.startswith(".")] == []

    # No key at all (a key file that was not restored): refused too, saying what to do.
    monkeypatch.delenv("TWOSTEP_SECRET_KEY")
    out = twostep(other, "db", "restore", str(archive), ok=False)
    assert "[secret_key_error]" in out and "restore the key file from your backup" in out
    assert not (other / "twostep.db").exists()


def printed_command(out: str, tool: str) -> str:
    """The command between backticks that the CLI told the operator to run."""
    found = re.search(rf"`({tool} [^`]+)`", out)
    assert found is not None, out
    return found.group(1)


@pytest.mark.postgres
def test_postgresql_is_dumped_and_restored_with_the_commands_twostep_prints(
    pg_server: postgres.PostgresServer | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if pg_server is None:
        missing("PostgreSQL")
    suffix = secrets.token_hex(4)
    source, target = f"twostep_src_{suffix}", f"twostep_dst_{suffix}"
    pg_server.psql(f"CREATE DATABASE {source}")
    pg_server.psql(f"CREATE DATABASE {target}")
    key_hex = secrets.token_hex(32)
    monkeypatch.setenv("TWOSTEP_SECRET_KEY", key_hex)
    monkeypatch.setenv("PATH", f"{pg_server.bindir}:{os.environ['PATH']}")
    home = tmp_path / "home"
    env = {"TWOSTEP_HOME": str(home), "TWOSTEP_SECRET_KEY": key_hex}
    seed = secrets.token_bytes(20)
    config = Config.from_env({**env, "TWOSTEP_DATABASE_URL": pg_server.url(source)})
    app = build(config, upgrade=True)
    app.admin.ensure_default_tenant()
    _integration, key = app.admin.create_integration(OPERATOR, "default", "vpn")
    app.admin.create_user(OPERATOR, "default", NewUser("alice"))
    app.enroll.enroll_oath_token(
        OPERATOR, "default", "alice", TokenSpec("S1", "hex:" + seed.hex(), HOTP)
    )
    app.close()

    def validate(url: str, counter: int) -> str:
        r = httpx.post(
            f"{url}/v1/validate",
            json={"user": "alice", "code": otp.hotp(seed, HOTP, counter)},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        return f"{r.json()['result']}:{r.json()['reason']}"

    with serving({**env, "TWOSTEP_DATABASE_URL": pg_server.url(source)}) as (url,):
        assert validate(url, 0) == "accept:None"

    monkeypatch.setenv("TWOSTEP_DATABASE_URL", pg_server.url(source))
    dump = printed_command(twostep(home, "db", "backup", "x", ok=False), "pg_dump")
    subprocess.run(["bash", "-c", dump], cwd=tmp_path, check=True, timeout=120)
    monkeypatch.setenv("TWOSTEP_DATABASE_URL", pg_server.url(target))
    restore = printed_command(twostep(home, "db", "restore", __file__, ok=False), "pg_restore")
    subprocess.run(["bash", "-c", restore], cwd=tmp_path, check=True, timeout=120)
    twostep(home, "db", "upgrade")

    with serving({**env, "TWOSTEP_DATABASE_URL": pg_server.url(target)}) as (url,):
        assert validate(url, 0) == "reject:code_replayed"
        assert validate(url, 1) == "accept:None"
        assert validate(url, 1) == "reject:code_replayed"


def test_a_forced_restore_under_a_running_server_is_what_it_serves_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, key_hex = live(tmp_path, monkeypatch)
    env = {"TWOSTEP_HOME": str(config.storage.home), "TWOSTEP_SECRET_KEY": key_hex}
    seed = secrets.token_bytes(20)
    app = build(config, upgrade=True)
    app.admin.ensure_default_tenant()
    _integration, key = app.admin.create_integration(OPERATOR, "default", "vpn")
    app.admin.create_user(OPERATOR, "default", NewUser("alice"))
    app.enroll.enroll_oath_token(
        OPERATOR, "default", "alice", TokenSpec("S1", "hex:" + seed.hex(), HOTP)
    )
    app.close()
    archive = tmp_path / "before-delete.db"
    twostep(config.storage.home, "db", "backup", str(archive))
    twostep(config.storage.home, "users", "delete", "alice")

    with serving(env, workers=2) as (url,), httpx.Client(base_url=url, timeout=30) as client:

        def validate(counter: int) -> str:
            code = otp.hotp(seed, HOTP, counter)
            r = client.post(
                "/v1/validate",
                json={"user": "alice", "code": code},
                headers={"Authorization": f"Bearer {key}"},
            )
            return f"{r.status_code}:{r.json().get('result')}:{r.json().get('reason')}"

        assert validate(0) != "200:accept:None"  # no alice: deleted after the backup
        out = twostep(config.storage.home, "db", "restore", "--force", str(archive))
        assert "a server was running: restart it" in out
        # Both workers read the restored database at their next transaction.
        assert [validate(i) for i in range(4)] == ["200:accept:None"] * 4
