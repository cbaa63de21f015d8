"""The hosted sign-in's settings from the shell: `twostep integrations signin urls`,
`secret` (printed once) and `show`; a refused URL is one recorded refusal; the secret the
command prints signs requests the server accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import twostep
from twostep.bootstrap import build
from twostep.clients import signin
from twostep.config import Config
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.slow

CALLBACK = "https://intranet.example.com/mfa/callback"


def test_urls_secret_and_show(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    twostep(home, "integrations", "add", "intranet")
    before = twostep(home, "integrations", "signin", "show", "intranet")
    assert "signing secret: none (requests refused)" in before
    assert "return URLs: none (requests refused)" in before
    listed = twostep(
        home, "integrations", "signin", "urls", "intranet", CALLBACK, "http://localhost:8000/cb"
    )
    assert f"  {CALLBACK}\n  http://localhost:8000/cb" in listed
    refused = twostep(
        home, "integrations", "signin", "urls", "intranet", "http://evil.example.com/", ok=False
    )
    assert "[invalid_request]" in refused and "https is required" in refused
    assert "give the return URLs, or --clear" in twostep(
        home, "integrations", "signin", "urls", "intranet", ok=False
    )
    printed = twostep(home, "integrations", "signin", "secret", "intranet")
    secret = printed.strip().splitlines()[-1]
    assert secret.startswith("tss_") and len(secret) == 47
    after = twostep(home, "integrations", "signin", "show", "intranet")
    assert "signing secret: issued" in after and secret not in after
    trail = twostep(home, "admin-events", "list", "--format", "json")
    actions = [(e["action"], e["result"]) for e in map(json.loads, trail.splitlines())]
    assert ("integration.signin_urls", "ok") in actions
    assert ("integration.signin_urls", "invalid_request") in actions
    assert ("integration.signin_secret", "ok") in actions
    assert secret not in trail

    app = build(Config.from_env({"TWOSTEP_HOME": str(home)}))
    try:
        key_id = app.admin.list_integrations(OPERATOR, "default")[0].key_id
        url = signin.make_request(
            "https://mfa.example.com",
            key_id=key_id,
            secret=secret,
            user="alice",
            redirect_uri=CALLBACK,
            state="s",
        )
        found = app.hosted_signin.check(url.split("request=")[1])
        assert found.redirect_uri == CALLBACK
    finally:
        app.close()
