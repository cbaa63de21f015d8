"""``twostep reports usage`` and ``twostep reports deliveries`` (issue 15): the usage
report from the shell, as JSON or CSV, over the same rollups as the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from tests.support.cli import twostep
from tests.support.usage import Written, write
from twostep.bootstrap import build
from twostep.config import Config
from twostep.domain.usage import day_of


def _seed(home: Path) -> dt.date:
    """Three events today (UTC) in ``default``, and a text to Germany."""
    app = build(Config.from_env({"TWOSTEP_HOME": str(home)}))
    try:
        tenant = app.admin.ensure_default_tenant()
        now = app.deps.clock.now()
        write(
            app.storage,
            [
                Written(tenant.id, "default", now, "accept", "sms"),
                Written(tenant.id, "default", now, "accept", "app_code"),
                Written(tenant.id, "default", now, "reject", "app_code", "invalid_code"),
            ],
        )
        with app.storage.transaction(write=True) as tx:
            tx.delivery_counts.add(
                tenant.id, day_of(now), "sms", "DE", sent=1, failed=0, segments=1
            )
    finally:
        app.close()
    return dt.datetime.fromtimestamp(now, dt.UTC).date()


def test_the_usage_report_as_json_and_csv(tmp_path: Path) -> None:
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    today = _seed(home).isoformat()
    days = ("--from", today, "--to", today)
    body = json.loads(
        twostep(home, "reports", "usage", "--tenant", "default", *days, "--group-by", "result")
    )
    assert body["counts"] == [
        {"result": "accept", "events": 2},
        {"result": "reject", "events": 1},
    ]
    assert body["deliveries"] == [
        {"country": "DE", "kind": "sms", "sent": 1, "failed": 0, "segments": 1}
    ]
    text = twostep(home, "reports", "usage", *days, "--group-by", "day,method", "--csv")
    assert list(csv.DictReader(io.StringIO(text))) == [
        {"day": today, "method": "app_code", "events": "2"},
        {"day": today, "method": "sms", "events": "1"},
    ]
    countries = twostep(home, "reports", "deliveries", *days, "--csv")
    assert countries.splitlines() == ["country,kind,sent,failed,segments", "DE,sms,1,0,1"]


def test_bad_days_and_unknown_scopes_are_refused_with_their_codes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    bad = twostep(home, "reports", "usage", "--from", "2026-02-30", ok=False)
    assert "[report_range_invalid]" in bad
    assert "[tenant_not_found]" in twostep(home, "reports", "usage", "--tenant", "x", ok=False)
    assert "[provider_not_found]" in twostep(
        home, "reports", "deliveries", "--provider", "abc", ok=False
    )


def test_the_authentication_report_filters_the_audit_log_by_provider_and_reason(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    today = _seed(home)
    provider = twostep(
        home, "providers", "create", "MSP", "--billing-model", "per_authentication",
        "--link-tenant", "default",
    ).split()[1]  # fmt: skip
    since = f"{today.isoformat()}T00:00:00Z"
    text = twostep(
        home, "audit", "--provider", provider, "--reason", "invalid_code", "--since", since,
        "--csv",
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["tenant"], r["method"], r["reason"]) for r in rows] == [
        ("default", "app_code", "invalid_code")
    ]
    sms = twostep(home, "audit", "--method", "sms", "--interface", "http", "--csv")
    assert [r["method"] for r in csv.DictReader(io.StringIO(sms))] == ["sms"]
    later = twostep(home, "audit", "--since", "2999-01-01T00:00:00Z", "--csv")
    assert later.splitlines()[1:] == []
    assert "[invalid_request]" in twostep(home, "audit", "--since", "yesterday", ok=False)
