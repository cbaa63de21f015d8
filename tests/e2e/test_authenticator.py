"""The reference authenticator, ``twostep-authenticator``, run as a person would run it
against a real ``twostep serve``: activate from the admin API's QR text, offline codes,
and push sign-ins approved, denied, left unanswered and reported as fraud; a device the
admin deactivated is told to activate again."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import serving
from twostep.bootstrap import build
from twostep.config import Config
from twostep.domain.entities import Role
from twostep.domain.ports.users import NewUser
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.slow

PUSH_TIMEOUT = 15  # the shortest a tenant may set: the unanswered case waits this long
CLIENT_IP = "203.0.113.7"
NOT_ACTIVATED = "Authentication request is not for an activated account"


def authenticator_command() -> list[str]:
    """The venv's ``twostep-authenticator`` script. A venv installed before the script was
    declared lacks it until reinstalled (``make`` does): then the same entry point."""
    script = Path(sys.executable).parent / "twostep-authenticator"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "twostep.authenticator.cli"]


class Authenticator:
    """The command with its own accounts file."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def run(self, *args: str, ok: bool = True, timeout: float = 60) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWOSTEP_")}
        result = subprocess.run(
            [*authenticator_command(), "--home", str(self.home), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = result.stdout + result.stderr
        assert (result.returncode == 0) == ok, (args, result.returncode, output)
        assert "Traceback" not in output, output
        return output


class Api:
    def __init__(self, url: str, integration_key: str, admin_key: str) -> None:
        self.url = url
        self.integration = {"Authorization": f"Bearer {integration_key}"}
        self.admin = {"Authorization": f"Bearer {admin_key}"}

    def sign_in(self, user: str, code: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"user": user, "client_ip": CLIENT_IP}
        if code is not None:
            body["code"] = code
        r = httpx.post(f"{self.url}/v1/validate", json=body, headers=self.integration, timeout=30)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def outcome(self, transaction_id: str) -> dict[str, Any]:
        r = httpx.get(
            f"{self.url}/v1/validate/{transaction_id}",
            params={"wait": 30},
            headers=self.integration,
            timeout=45,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def admin_call(self, method: str, path: str) -> httpx.Response:
        return httpx.request(method, f"{self.url}{path}", headers=self.admin, timeout=30)


class Waiting(threading.Thread):
    """``GET /v1/validate/{tx}?wait=30`` held open while the authenticator answers."""

    def __init__(self, api: Api, transaction_id: str) -> None:
        super().__init__(daemon=True)
        self.api, self.transaction_id = api, transaction_id
        self.answer: dict[str, Any] = {}
        self.took = 0.0

    def run(self) -> None:
        started = time.monotonic()
        self.answer = self.api.outcome(self.transaction_id)
        self.took = time.monotonic() - started

    def result(self, timeout: float = 40) -> tuple[str, str | None]:
        self.join(timeout)
        assert not self.is_alive(), "the waiting validate call did not return"
        return self.answer["result"], self.answer["reason"]


def push(api: Api, user: str) -> tuple[int, Waiting]:
    started = api.sign_in(user)
    assert started["result"] == "challenge", started
    assert f"enter {started['number']}" in started["prompt"]
    waiting = Waiting(api, started["transaction_id"])
    waiting.start()
    return int(started["number"]), waiting


def _setup(env: dict[str, str]) -> tuple[str, str]:
    app = build(Config.from_env(env), upgrade=True)
    try:
        app.admin.ensure_default_tenant()
        app.admin.update_settings(OPERATOR, "default", {"push_timeout": PUSH_TIMEOUT})
        for user in ("alice", "bob"):
            app.admin.create_user(OPERATOR, "default", NewUser(user))
        _integration, integration_key = app.admin.create_integration(OPERATOR, "default", "vpn")
        _admin, admin_key = app.admin.create_admin_key(OPERATOR, "e2e", Role.GLOBAL_ADMIN)
    finally:
        app.close()
    return integration_key, admin_key


def test_the_reference_authenticator_against_a_server(tmp_path: Path) -> None:
    env = {"TWOSTEP_HOME": str(tmp_path / "data")}
    integration_key, admin_key = _setup(env)
    phone = Authenticator(tmp_path / "phone")

    with serving(env) as (url,):
        api = Api(url, integration_key, admin_key)

        # Activation: alice from the QR code's text, bob from the URL and the code.
        r = api.admin_call("POST", "/v1/tenants/default/users/alice/devices/activations")
        assert r.status_code == 201, r.text
        qr_text = r.json()["activation_uri"]
        assert qr_text.startswith("twostep://activate?url=")
        out = phone.run("activate", qr_text, "--name", "alice's phone")
        assert f"Activated alice@default (Twostep) on {url}" in out
        r = api.admin_call("POST", "/v1/tenants/default/users/bob/devices/activations")
        started = r.json()
        out = phone.run(
            "activate",
            started["activation_url"],
            started["activation_code"],
            "--key-type",
            "p256",
        )
        assert "Activated bob@default" in out
        keys = phone.home / "accounts.json"
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600
        assert stat.S_IMODE(phone.home.stat().st_mode) == 0o700
        [device] = api.admin_call("GET", "/v1/tenants/default/users/alice/devices").json()
        assert (device["name"], device["platform"], device["state"]) == (
            "alice's phone",
            "reference",
            "active",
        )
        listed = phone.run("list")
        assert device["id"] in listed and "alice" in listed and "bob" in listed

        # Nobody answers bob's request: his sign-in is rejected when it times out.
        # It runs meanwhile, so the test waits the 15 seconds only once.
        _number, unanswered = push(api, "bob")

        # Offline code: what `code` shows, validate accepts.
        code = phone.run("code", "alice@default", "--plain").strip()
        assert code.isdigit() and len(code) == 6
        accepted = api.sign_in("alice", code)
        assert (accepted["result"], accepted["reason"]) == ("accept", None), accepted

        # Approve with the number the sign-in page shows.
        number, waiting = push(api, "alice")
        out = phone.run(
            "watch",
            "alice@default",
            "--once",
            "--approve-with-number",
            str(number),
            "--timeout",
            "20",
        )
        assert "integration: vpn" in out and f"client IP:   {CLIENT_IP}" in out
        assert "Approved. Server result: accept" in out
        assert waiting.result() == ("accept", None)

        # Deny.
        _number, waiting = push(api, "alice")
        out = phone.run("watch", "alice@default", "--once", "--deny", "--timeout", "20")
        assert "Denied. Server result: reject (denied)" in out
        assert waiting.result() == ("reject", "denied")

        # Fraud: the sign-in is denied, alice is locked, admins see it.
        _number, waiting = push(api, "alice")
        out = phone.run("watch", "alice@default", "--once", "--fraud", "--timeout", "20")
        assert "Reported as fraud" in out and "reject (fraud_reported)" in out
        assert waiting.result() == ("reject", "fraud_reported")
        user = api.admin_call("GET", "/v1/tenants/default/users/alice").json()
        assert user["locked"] is True
        events = api.admin_call(
            "GET", "/v1/tenants/default/audit?user=alice&result=reject&method=app_push"
        ).json()["events"]
        assert "fraud_reported" in {e["reason"] for e in events}
        locked = api.sign_in("alice")
        assert (locked["result"], locked["reason"]) == ("reject", "user_locked"), locked

        # Bob's request ran out meanwhile; his authenticator no longer sees it.
        assert unanswered.result() == ("reject", "timeout")
        assert PUSH_TIMEOUT - 1 < unanswered.took < PUSH_TIMEOUT + 10
        out = phone.run("watch", "bob@default", "--once", "--timeout", "2", ok=False)
        assert "No sign-in request within 2 s." in out

        # The admin deactivates alice's device: her authenticator is told to start over.
        r = api.admin_call("DELETE", f"/v1/tenants/default/users/alice/devices/{device['id']}")
        assert r.status_code == 204, r.text
        out = phone.run("watch", "alice@default", "--timeout", "10", ok=False)
        assert NOT_ACTIVATED in out
        assert f"twostep-authenticator remove {device['id']}" in out
        out = phone.run("remove", device["id"], "--yes")
        assert "Removed alice@default" in out
        listed = phone.run("list")
        assert device["id"] not in listed and "bob" in listed
