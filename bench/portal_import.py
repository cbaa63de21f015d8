"""A token import through the management portal's page, timed at the server: a global admin
signed in through the pages posts a 10,000-key password-encrypted PSKC (PBKDF2 at 600,000
iterations, AES-256-CBC, HMAC-SHA256: bench/tokens_import.py's file) to the token pool's
import form, through the ASGI app in this process (Starlette's TestClient: the multipart
parse, the handler; no socket). The post starts an import job and answers 303 to its page;
the job runs in a thread of this process, and its status is asked every 0.25 s, as the
page's script would (every second), until it ends. Each repeat is a fresh TWOSTEP_HOME on
SQLite. Prints, per import, the post's answer time, the wall and CPU seconds until the
result, how many status answers said "running" and which phases they showed, and the
medians.

    .venv/bin/python -m bench.portal_import                 # --keys 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as ``python bench/portal_import.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from bench.portal_pages import _token, sign_in
from bench.tokens_import import PASSWORD, make_pskc
from twostep.bootstrap import build
from twostep.config import Config
from twostep.interfaces.http.app import create_app

POOL = "/admin/tenants/default/tokens"
POLL = 0.25  # seconds between status requests
TIMEOUT = 300.0


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--pbkdf2-iterations", type=int, default=600_000)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args(argv)


def one_import(data: bytes, keys: int) -> tuple[float, float]:
    """Wall and CPU seconds of one import, from the post to its result, in a fresh home."""
    with tempfile.TemporaryDirectory(prefix="twostep-import-") as home:
        app = build(Config.from_env({"TWOSTEP_HOME": home}), upgrade=True)
        app.admin.ensure_default_tenant()
        try:
            with TestClient(
                create_app(app), base_url="https://mfa.test", follow_redirects=False
            ) as client:
                sign_in(app, client)
                form = {"csrf": _token(client.get(POOL).text), "password": PASSWORD}
                files = {"file": ("tokens.pskc", data, "application/xml")}
                started, cpu = time.perf_counter(), time.process_time()
                answer = client.post(POOL + "/import", data=form, files=files)
                posted = time.perf_counter() - started
                assert answer.status_code == 303, answer.text[:500]
                job = answer.headers["location"]
                phases: list[tuple[str, str]] = []
                for _ in range(int(TIMEOUT / POLL)):  # bounded: TIMEOUT seconds at most
                    state = client.get(job + "/status").json()
                    if state["state"] != "running":
                        break
                    phases.append((state["phase"], state["text"]))
                    time.sleep(POLL)
                wall, spent = time.perf_counter() - started, time.process_time() - cpu
                page = client.get(job).text
                assert f"{keys} tokens imported" in page.replace(",", ""), page[:500]
                print(f"  post answered in {posted * 1000:.0f} ms; {len(phases)} running answers:")
                for phase in dict.fromkeys(p for p, _ in phases):  # each phase's first and last
                    texts = [t for p, t in phases if p == phase]
                    print(f"    {phase} ({len(texts)}): {texts[0]!r} ... {texts[-1]!r}")
        finally:
            app.close()
    return wall, spent


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    with tempfile.TemporaryDirectory(prefix="twostep-pskc-") as folder:
        path = Path(folder) / "tokens.pskc"
        make_pskc(path, args.keys, args.pbkdf2_iterations)
        data = path.read_bytes()
    print(f"PSKC of {args.keys} keys ({len(data) / 1e6:.1f} MB) through the portal's import form")
    runs = [one_import(data, args.keys) for _ in range(args.repeat)]
    for wall, cpu in runs:
        print(f"  post to result: {wall:6.2f} s wall, {cpu:6.2f} s CPU")
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    print(f"median: {wall:.2f} s wall, {cpu:.2f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
