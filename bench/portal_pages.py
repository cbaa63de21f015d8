"""Each page of the management portal, /my's home and recent sign-ins and the hosted sign-in
page's start for a user of the population, timed at the server (issue 14's target: under 50 ms),
over the dashboard benchmark's data (bench/dashboard.py's seed: 100,000 users, 1,000,000
audit events over 30 days, the rollups caught up and a tail of 5,000 events unseen).

A global admin signs in through the pages (password, then the authenticator code), then
every page is fetched ``--repeat`` times in turn through the ASGI app in this process
(Starlette's TestClient: the full handler, template and middleware, no socket). Prints the
median and p99 of each page in milliseconds, and the median CPU time of the process.

    .venv/bin/python -m bench.portal_pages                            # SQLite, full size
    .venv/bin/python -m bench.portal_pages --users 20000 --events 200000
    .venv/bin/python -m bench.portal_pages --only reports --repeat 100   # the reports pages
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if not __package__:  # run as ``python bench/portal_pages.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from tests.support import builders

from bench.dashboard import SEED_SECONDS, FixedClock, seed, write_tail
from twostep.bootstrap import App, build
from twostep.clients import signin
from twostep.config import Config
from twostep.domain.billing import BillingModel
from twostep.domain.entities import Role
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR
from twostep.services.rollups import RollupJob

PASSWORD = "bench portal password"  # noqa: S105 - a throwaway benchmark account
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
T = "/admin/tenants/default"
PAGES = {
    "dashboard": "/admin",
    "tenants": "/admin/tenants",
    "users": f"{T}/users",
    "users search": f"{T}/users?q=user-0420",
    "a user": f"{T}/users/user-000042@example.com",
    "tokens": f"{T}/tokens",
    "integrations": f"{T}/integrations",
    "gateways": f"{T}/gateways",
    "settings": f"{T}/settings",
    "audit (last 24 h)": f"{T}/audit",
    "audit (a user, 30 days)": f"{T}/audit?user=user-000042@example.com&since=2000-01-01T00:00",
    "audit (rejects, 30 days)": f"{T}/audit?result=reject&since=2000-01-01T00:00",
    "audit.csv (1,000 rows)": f"{T}/audit.csv",
    "admin audit": f"{T}/admin-audit",
    # Four charts of the last 30 days and a per-authentication statement of the month.
    "reports (30 days)": f"{T}/reports",
    "reports (every tenant)": "/admin/reports",
}
_TODAY = dt.datetime.now(dt.UTC).date()
PAGES["reports (366 days)"] = (
    f"{T}/reports?from={(_TODAY - dt.timedelta(days=365)).isoformat()}&to={_TODAY.isoformat()}"
)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="WORDS",
        help="time only the pages whose name contains these words (repeatable)",
    )
    return parser.parse_args(argv)


def chosen(names: list[str], only: list[str]) -> list[str]:
    """The pages ``--only`` picks (every page without it)."""
    return [n for n in names if not only or any(o.lower() in n.lower() for o in only)]


def _token(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None
    return found.group(1)


def sign_in(app: App, client: TestClient) -> None:
    enrolled = builders.enrolled_user(app, "bench-admin")
    app.passwords.set_password(OPERATOR, "default", "bench-admin", PASSWORD)
    app.admin_grants.grant(OPERATOR, "default", "bench-admin", Role.GLOBAL_ADMIN)
    form = {"tenant": "default", "user": "bench-admin", "password": PASSWORD}
    client.post("/admin/signin", data={"csrf": _token(client.get("/admin/signin").text), **form})
    page = client.get("/admin/signin/verify").text
    code = enrolled.totp(app.deps.clock.now())
    done = client.post(
        "/admin/signin/verify", data={"csrf": _token(page), "action": "code", "code": code}
    )
    assert done.headers.get("location") == "/admin", done.text


def measure(
    client: TestClient, repeat: int, pages: dict[str, str]
) -> dict[str, list[tuple[float, float]]]:
    """Each page's (wall, CPU) milliseconds. The CPU time is this process's (the handler's
    thread, SQLite's work and the client's): on a machine others share, the wall time
    grows with their load, the CPU time much less."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in pages}
    for _ in range(repeat):
        for name, path in pages.items():
            started, cpu = time.perf_counter(), time.process_time()
            answer = client.get(path)
            wall = (time.perf_counter() - started) * 1000
            times[name].append((wall, (time.process_time() - cpu) * 1000))
            assert answer.status_code == 200, (path, answer.status_code)
    return times


# A user of the seeded population at the self-service portal and the hosted sign-in page.
MEMBER = "user-000042@example.com"
CALLBACK = "https://app.example.com/mfa/callback"
USER_PAGES = {"/my (home)": "/my", "/my/signins (recent sign-ins)": "/my/signins"}
HOSTED_START = "/signin (start page)"
HOSTED_BEGIN = "/signin POST (the sign-in begins)"


def member_signs_in(app: App, client: TestClient) -> None:
    """The population's user, given a password and an authenticator app, signs in at /my."""
    enrolled = builders.app_code(app, MEMBER)
    app.passwords.set_password(OPERATOR, "default", MEMBER, PASSWORD)
    form = {"tenant": "default", "user": MEMBER, "password": PASSWORD}
    client.post("/my/signin", data={"csrf": _token(client.get("/my/signin").text), **form})
    app.deps.clock.value += 30  # type: ignore[attr-defined]  # the next code, not the enrollment's
    page = client.get("/my/verify").text
    code = enrolled.totp(app.deps.clock.now())
    done = client.post("/my/verify", data={"csrf": _token(page), "action": "code", "code": code})
    assert done.headers.get("location") == "/my", done.text


def measure_member(
    app: App, client: TestClient, repeat: int
) -> dict[str, list[tuple[float, float]]]:
    """/my's home and recent sign-ins for the signed-in member; the hosted page's start page
    (GET: the request checked) and its start (POST: the request spent, the sign-in begun,
    the authenticator code asked) for the member, each with a request made beforehand."""
    integration, _key = builders.integration(app, "bench-web")
    app.hosted_signin.set_return_urls(OPERATOR, "default", "bench-web", [CALLBACK])
    _config, secret = app.hosted_signin.issue_secret(OPERATOR, "default", "bench-web")
    times: dict[str, list[tuple[float, float]]] = {
        name: [] for name in (*USER_PAGES, HOSTED_START, HOSTED_BEGIN)
    }
    hosted = TestClient(client.app, base_url="https://mfa.test", follow_redirects=False)

    def timed(name: str, send: Callable[[], Any], expected: int) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        answer = send()
        wall = (time.perf_counter() - started) * 1000
        times[name].append((wall, (time.process_time() - cpu) * 1000))
        assert answer.status_code == expected, (name, answer.status_code)
        return answer

    for round_ in range(repeat):
        for name, path in USER_PAGES.items():
            timed(name, functools.partial(client.get, path), 200)
        url = signin.make_request(
            "https://mfa.test",
            key_id=integration.key_id,
            secret=secret,
            user=MEMBER,
            redirect_uri=CALLBACK,
            state=f"s-{round_}",
            now=app.deps.clock.now(),
        ).removeprefix("https://mfa.test")
        landing = timed(HOSTED_START, functools.partial(hosted.get, url), 200)
        form = {"csrf": _token(landing.text), "request": url.split("request=", 1)[1]}
        timed(HOSTED_BEGIN, functools.partial(hosted.post, "/signin", data=form), 303)
    return times


def run(args: argparse.Namespace) -> dict[str, list[tuple[float, float]]]:
    midnight = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    now = midnight.timestamp() + 18 * 3600.0
    with tempfile.TemporaryDirectory(prefix="twostep-portal-") as home:
        clock = FixedClock(now)
        app = build(Config.from_env({"TWOSTEP_HOME": home}), clock=clock, upgrade=True)
        try:
            seed(app, now, args.users, args.events, time.perf_counter() + SEED_SECONDS)
            job = RollupJob(app.deps)
            while not job.run(max_rounds=100).caught_up:
                pass
            write_tail(app, now, 5_000)
            # A provider made before the month began: its statement is the whole month's.
            clock.value = now - 40 * 86400
            app.providers.create(OPERATOR, "bench", BillingModel.PER_AUTHENTICATION, "default")
            clock.value = now
            with TestClient(
                create_app(app), base_url="https://mfa.test", follow_redirects=False
            ) as client:
                sign_in(app, client)
                pages = {n: PAGES[n] for n in chosen(list(PAGES), args.only)}
                times = measure(client, args.repeat, pages)
            member_pages = [*USER_PAGES, HOSTED_START, HOSTED_BEGIN]
            if chosen(member_pages, args.only):
                with TestClient(
                    create_app(app), base_url="https://mfa.test", follow_redirects=False
                ) as member:
                    member_signs_in(app, member)
                    found = measure_member(app, member, args.repeat)
                    times |= {n: found[n] for n in chosen(member_pages, args.only)}
        finally:
            app.close()
    return {name: values for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    print(f"portal pages over {args.users} users and {args.events} audit events (SQLite)")
    times = run(args)
    # The machine is shared: its load (this process counts one) beside the figures.
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end (1, 5, 15 min): {load}")
    print(f"{'page':34} {'median ms':>10} {'p99 ms':>8} {'median CPU ms':>14}")
    for name, pairs in times.items():
        ordered = sorted(wall for wall, _ in pairs)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        cpu = statistics.median(c for _, c in pairs)
        print(f"{name:34} {statistics.median(ordered):10.1f} {p99:8.1f} {cpu:14.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
