"""Directory password checks: binds per second and our CPU per bind, against a real slapd.

Starts the test suite's throw-away slapd on loopback, adds ``--users`` users, then measures
``LdapConnector.bind`` (the pooled binds a sign-in with a directory password makes), one
thread and ``--threads`` threads, over StartTLS. Baseline in the same run: ldap3's own
simple bind on one warm StartTLS connection, the same users in turn (no pool, no checks).
CPU is this process's (slapd's is not counted): what a bind costs the Twostep server.

    .venv/bin/python -m bench.directory_binds --seconds 3 --threads 4

Loopback only; every run is bounded by ``--seconds`` and ``--max-count``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ldap3 import SIMPLE
from tests.support.slapd import LdapUser, SlapdServer, SlapdTree

from bench.report import machine
from twostep.adapters.directory.connector import LdapConnector
from twostep.adapters.directory.servers import Opener
from twostep.domain.directory import BindResult, Directory


@dataclass
class Run:
    name: str
    threads: int
    count: int
    elapsed: float
    cpu: float

    @property
    def rate(self) -> float:
        return self.count / self.elapsed

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.count


def measure(
    name: str, threads: int, one: Callable[[int], None], seconds: float, max_count: int
) -> Run:
    """Call ``one(i)`` from ``threads`` threads until the time or the count runs out."""
    deadline = time.monotonic() + seconds
    counts = [0] * threads

    def worker(slot: int) -> None:
        i = 0
        while time.monotonic() < deadline and sum(counts) < max_count:
            one(slot * 1_000_000 + i)
            i += 1
            counts[slot] = i

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    started, cpu = time.perf_counter(), time.process_time()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=seconds + 30)
    return Run(name, threads, sum(counts), time.perf_counter() - started, time.process_time() - cpu)


def baseline(tree: SlapdTree, users: list[LdapUser], seconds: float, max_count: int) -> Run:
    connection, _ = Opener(tree.ldap_settings()).open()

    def one(i: int) -> None:
        user = users[i % len(users)]
        connection.user, connection.password = user.dn, user.password.encode()
        connection.authentication = SIMPLE
        if not connection.bind(read_server_info=False):
            raise RuntimeError(connection.result)

    try:
        return measure("ldap3 bind, one connection", 1, one, seconds, max_count)
    finally:
        connection.unbind()


def pooled(
    tree: SlapdTree, users: list[LdapUser], threads: int, seconds: float, max_count: int
) -> Run:
    connector = LdapConnector()
    corp = Directory(id="bench", tenant_id=1, name="corp", settings=tree.ldap_settings())

    def one(i: int) -> None:
        user = users[i % len(users)]
        if connector.bind(corp, user.dn, user.password) is not BindResult.OK:
            raise RuntimeError(f"bind as {user.dn} failed")

    try:
        name = f"LdapConnector.bind, {threads} thread{'s' if threads > 1 else ''}"
        return measure(name, threads, one, seconds, max_count)
    finally:
        connector.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--max-count", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    server = SlapdServer.create()
    try:
        tree = server.new_tree()
        users = tree.bulk_users(args.users)
        base = baseline(tree, users, args.seconds, args.max_count)
        runs = [
            base,
            pooled(tree, users, 1, args.seconds, args.max_count),
            pooled(tree, users, args.threads, args.seconds, args.max_count),
        ]
    finally:
        server.destroy()

    if args.json:
        print(json.dumps([{**vars(r), "rate": r.rate, "cpu_ms": r.cpu_ms} for r in runs]))
        return
    print(machine())
    print(f"{'run':<36} {'binds/s':>9} {'ratio':>6} {'our CPU ms/bind':>16}")
    for run in runs:
        print(f"{run.name:<36} {run.rate:>9.0f} {run.rate / base.rate:>6.2f} {run.cpu_ms:>16.3f}")


if __name__ == "__main__":
    main()
