"""A token import through the management portal's page, timed at the server: a global admin
signed in through the pages posts a 10,000-key password-encrypted PSKC (PBKDF2 at 600,000
iterations, AES-256-CBC, HMAC-SHA256: bench/tokens_import.py's file) to the token pool's
import form, through the ASGI app in this process (Starlette's TestClient: the multipart
parse, the handler, the importer, the page; no socket). Each repeat is a fresh TWOSTEP_HOME
on SQLite. Prints each import's wall and CPU seconds and the medians: the figures that say
whether one request is enough (issue 14: "progress" for large files).

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


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--pbkdf2-iterations", type=int, default=600_000)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args(argv)


def one_import(data: bytes, keys: int) -> tuple[float, float]:
    """Wall and CPU seconds of one import request, in a fresh home."""
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
                wall, spent = time.perf_counter() - started, time.process_time() - cpu
                assert answer.status_code == 200, answer.text[:500]
                assert f"{keys} tokens imported" in answer.text.replace(",", "")
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
        print(f"  one request: {wall:6.2f} s wall, {cpu:6.2f} s CPU")
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    print(f"median: {wall:.2f} s wall, {cpu:.2f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
