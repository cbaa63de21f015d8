"""`twostep serve --workers 2` with a metrics token: whichever worker answers a scrape, the
counts are the node's (prometheus_client's multiprocess mode, set up by the supervisor),
a dead worker's counts stay while its pool gauges go, and the directory goes at exit."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.support.metrics import TOKEN, Scrape, bearer, parse
from tests.support.servers import serving
from twostep.bootstrap import build
from twostep.config import Config
from twostep.domain.ports.users import NewUser
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.slow

SIGN_INS = 60
VALIDATIONS = "twostep_validations_total"


def _scrape(url: str) -> Scrape:
    # A new connection each time: the kernel spreads them over the workers' sockets.
    r = httpx.get(f"{url}/metrics", headers=bearer(), timeout=10)
    assert r.status_code == 200, r.text
    return parse(r.text)


def _pids(scrape: Scrape) -> set[str]:
    return scrape.label_values("twostep_db_pool_size", "pid")


def test_the_counts_of_two_workers_add_up(config: Config, tmp_path: Path) -> None:
    assert config.storage.secret_key is not None
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        "TWOSTEP_HOME": str(config.storage.home),
        "TWOSTEP_DATABASE_URL": config.storage.database_url,
        "TWOSTEP_SECRET_KEY": config.storage.secret_key.get_secret_value(),
        "TWOSTEP_METRICS_TOKEN": TOKEN,
        "TMPDIR": str(scratch),  # where serve makes the workers' metrics directory
    }
    app = build(config, upgrade=True)
    app.admin.ensure_default_tenant()
    app.admin.update_settings(OPERATOR, "default", {"max_failures": 100})
    app.admin.create_user(OPERATOR, "default", NewUser("alice"))
    _integration, key = app.admin.create_integration(OPERATOR, "default", "web")
    app.close()

    with serving(env, workers=2) as (url,):
        (made,) = scratch.iterdir()
        assert made.name.startswith("twostep-metrics-")
        for _ in range(SIGN_INS):  # alice has no method: each is one audited reject
            r = httpx.post(
                f"{url}/v1/validate", json={"user": "alice", "code": "000000"}, headers=bearer(key)
            )
            assert r.json()["reason"] == "no_method_registered", r.text
        scrapes = [_scrape(url) for _ in range(12)]
        for scrape in scrapes:
            assert scrape.value(VALIDATIONS, reason="no_method_registered") == SIGN_INS
            assert scrape.value(VALIDATIONS) == SIGN_INS
        # Both workers served (each has a pool), and each scrape saw both.
        workers = set.union(*(_pids(s) for s in scrapes))
        assert len(workers) == 2, workers
        served = scrapes[-1].value("twostep_http_request_duration_seconds_count", route="validate")
        assert served == SIGN_INS

        dead = sorted(workers)[0]
        os.kill(int(dead), signal.SIGKILL)
        deadline = time.monotonic() + 20
        while True:
            assert time.monotonic() < deadline, "the dead worker's gauges stayed"
            try:
                after = _scrape(url)
            except httpx.TransportError:
                continue  # a connection queued on the killed worker's socket is reset
            if dead not in _pids(after):
                break
            time.sleep(0.2)
        assert after.value(VALIDATIONS) == SIGN_INS  # its counts stay counted
    assert list(scratch.iterdir()) == []  # the supervisor removed the directory at exit
