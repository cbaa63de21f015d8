"""What ``TWOSTEP_SQLITE_SYNCHRONOUS=FULL`` costs against ``NORMAL`` on this disk.

Times the write an accepted validation makes (BEGIN IMMEDIATE, the conditional UPDATE that
claims the code, one audit INSERT, COMMIT) through Twostep's own engine (engine.py applies
the pragma on connect), one transaction after the other as SQLite's single writer runs
them, with each setting alternately in the same run, in a fresh database in the given
directory (the disk that would hold ``TWOSTEP_HOME``). SQLite writes one transaction at a
time, so 1 / (time per transaction) bounds a node's accepted validations per second.

    .venv/bin/python -m bench.sqlite_synchronous                 # in a temporary directory
    .venv/bin/python -m bench.sqlite_synchronous --dir /var/lib/twostep --transactions 5000

The whole server under load: ``TWOSTEP_SQLITE_SYNCHRONOUS=FULL .venv/bin/python -m
bench.validate --backend sqlite`` (the server inherits the variable).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from twostep.adapters.storage.engine import SQLITE_SYNCHRONOUS, make_engine


def per_transaction_us(directory: Path, setting: str, count: int) -> float:
    """Wall time per write transaction, in microseconds."""
    path = directory / f"sync-{setting.lower()}.db"
    engine = make_engine(f"sqlite:///{path}", pool_size=1, sqlite_synchronous=setting)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE claims (id INTEGER PRIMARY KEY, step INTEGER)")
            conn.exec_driver_sql("CREATE TABLE audit (seq INTEGER PRIMARY KEY, event TEXT)")
            conn.exec_driver_sql("INSERT INTO claims VALUES (1, 0)")
            conn.commit()
            writer = conn.execution_options(sqlite_immediate=True)
            claim = text("UPDATE claims SET step = :s WHERE id = 1 AND step < :s")
            audit = text("INSERT INTO audit (event) VALUES (:e)")
            event = "x" * 300  # about an audit event's size
            started = time.perf_counter()
            for step in range(1, count + 1):
                with writer.begin():
                    writer.execute(claim, {"s": step})
                    writer.execute(audit, {"e": event})
            return (time.perf_counter() - started) / count * 1e6
    finally:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--dir", type=Path, help="where to write [a temporary directory]")
    parser.add_argument("--transactions", type=int, default=2_000, help="per run [2000]")
    parser.add_argument("--repeat", type=int, default=5, help="runs per setting [5]")
    args = parser.parse_args(argv)
    directory = Path(tempfile.mkdtemp(prefix="twostep-sync-", dir=args.dir))
    try:
        runs: dict[str, list[float]] = {s: [] for s in SQLITE_SYNCHRONOUS}
        for _ in range(args.repeat):
            for setting in SQLITE_SYNCHRONOUS:  # alternated: drift hits both alike
                runs[setting].append(per_transaction_us(directory, setting, args.transactions))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    baseline = statistics.median(runs["NORMAL"])
    print(f"write transactions in {args.dir or tempfile.gettempdir()}, medians of {args.repeat}")
    print("setting  us/tx (median)  runs                      writes/s bound  x NORMAL")
    for setting, values in runs.items():
        median = statistics.median(values)
        spread = ", ".join(f"{v:.0f}" for v in values)
        print(
            f"{setting:7}  {median:13.0f}  {spread:24}  {1e6 / median:14,.0f}  "
            f"{median / baseline:8.2f}"
        )


if __name__ == "__main__":
    main()
