"""MFA Server migration benchmark: N users (default 50,000) with phones and OATH tokens.

For each database, in a fresh TWOSTEP_HOME (and, for PostgreSQL, a throw-away server from
tests/support/postgres.py), the real command `twostep migrate mfa-server FILE` runs three
times: a dry run, the migration, and the same migration again (which must change
nothing). The figures are each command's wall and CPU time. The baseline, measured in
the same run, is the document only read and validated (no storage), so the ratio says
what planning and storing cost. Bounded: one document, a fixed number of commands, each with
a timeout. Loopback only: nothing here touches a network.

Document: every user has a phone (one in ten with an extension) and an OATH token; half
have a backup phone; one in twenty used PIN mode and one in ten the mobile app.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from twostep.adapters.importers.mfa_server import read_mfa_server

TIMEOUT = 600.0
BACKENDS = ("sqlite", "postgres")


def make_document(path: Path, users: int) -> None:
    records: list[dict[str, Any]] = []
    for i in range(users):
        record: dict[str, Any] = {
            "username": f"user{i:06d}@contoso.com",
            "firstName": f"First{i}",
            "lastName": f"Last{i}",
            "email": f"user{i:06d}@contoso.com",
            "userGroup": f"group{i % 20}",
            "countryCode": "1",
            # 201-555-01xx..: valid NANP numbers, distinct per user
            "phone": f"201-{200 + i // 10000:03d}-{i % 10000:04d}"
            + (f" x{i % 1000}" if i % 10 == 0 else ""),
            "defaultMethod": ("Phone Call", "Text Message", "OATH Token", "Mobile App")[i % 4],
            "mode": "PIN" if i % 20 == 0 else "Standard",
            "textMessageMode": "OTP",
            "language": "en",
            "oathTokenSerialNumber": f"MFA{i:07d}",
            "oathTokenSecretKey": base64.b32encode(secrets.token_bytes(20)).decode(),
            "oathTokenTimeInterval": "30",
            "mobileAppDevices": 1 if i % 10 == 3 else 0,
        }
        if i % 2:
            record["backupCountryCode"] = "1"
            record["backupPhone"] = f"202-{200 + i // 10000:03d}-{i % 10000:04d}"
        records.append(record)
    document = {"format": "mfa-server-users", "version": 1, "users": records}
    path.write_text(json.dumps(document))


def parse_only(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of reading and validating the document, in this process."""
    cpu, started = time.process_time(), time.perf_counter()
    read_mfa_server(path.read_bytes())
    return time.perf_counter() - started, time.process_time() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(env: dict[str, str], *args: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the command's process, user + system; PostgreSQL's own
    work is not in it) and the first line of one `twostep` command's output."""
    cli = [sys.executable, "-m", "twostep.interfaces.cli.main"]
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [*cli, *args], env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"twostep {' '.join(args)} failed: {done.stderr[-2000:]}")
    return elapsed, _children_cpu() - cpu, done.stdout.splitlines()[0] if done.stdout else ""


def measure(backend: str, document: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "TWOSTEP_HOME": home}
        server = None
        if backend == "postgres":
            from tests.support import postgres

            server = postgres.start(durable=True)
            server.psql("CREATE DATABASE twostep_bench")
            env["TWOSTEP_DATABASE_URL"] = server.url("twostep_bench")
        try:
            run(env, "db", "upgrade")
            figures: dict[str, Any] = {"backend": backend}
            for name, extra in (("dry_run", ["--dry-run"]), ("apply", []), ("again", [])):
                seconds, cpu, first = run(env, "migrate", "mfa-server", str(document), *extra)
                figures[name] = {"seconds": round(seconds, 2), "cpu": round(cpu, 2)}
                figures[name]["summary"] = first
            return figures
        finally:
            if server is not None:
                server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="sqlite")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory() as work:
        document = Path(work) / "mfa-server-users.json"
        make_document(document, args.users)
        size = document.stat().st_size
        baseline, baseline_cpu = parse_only(document)
        print(
            f"{args.users} users, document {size / 1e6:.1f} MB, read and validated in "
            f"{baseline:.2f} s ({baseline_cpu:.2f} s CPU): the baseline"
        )
        results = []
        for backend in backends:
            figures = measure(backend, document)
            for name in ("dry_run", "apply", "again"):
                seconds, cpu = figures[name]["seconds"], figures[name]["cpu"]
                print(
                    f"{backend:8} {name:8} {seconds:7.2f} s ({cpu:6.2f} s CPU, "
                    f"x{cpu / baseline_cpu:4.1f} the baseline's) | {figures[name]['summary']}"
                )
            results.append(figures)
    if args.json:
        out = {
            "users": args.users,
            "bytes": size,
            "baseline_seconds": round(baseline, 2),
            "baseline_cpu": round(baseline_cpu, 2),
            "load_average": os.getloadavg(),
            "runs": results,
        }
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
