"""`twostep outbox` plays the phone against the running server, as a provider's webhook
would: the server decides, and its log (not the command's) carries the fraud ALERT."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.support.cli import twostep
from tests.support.servers import serving
from twostep.services.challenges import new_transaction_id

pytestmark = pytest.mark.slow


def _key(home: Path) -> str:
    return twostep(home, "integrations", "add", "intranet").strip().splitlines()[-1]


def test_a_fraud_report_pressed_from_the_shell_alerts_in_the_server_log(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "bob", "--mfa", "enforced")
    twostep(home, "methods", "add", "bob", "voice", "--phone", "+14155550123")
    key = _key(home)
    with serving({"TWOSTEP_HOME": str(home)}) as (url,):
        headers = {"Authorization": f"Bearer {key}"}
        started = httpx.post(f"{url}/v1/validate", json={"user": "bob"}, headers=headers).json()
        assert started["result"] == "challenge", started
        tx = started["transaction_id"]
        said = twostep(home, "outbox", "press", tx, "0", "--server", url)
        outcome = httpx.get(f"{url}/v1/validate/{tx}", headers=headers).json()
        # Pressed again: a replay, told the outcome, no second alert.
        twostep(home, "outbox", "press", tx, "0", "--server", url)
    assert "ALERT" not in said
    assert "administrator" in said.lower()  # the words the caller hears
    assert (outcome["result"], outcome["reason"]) == ("reject", "fraud_reported")
    log = (home / "server-0.log").read_text()
    assert len(re.findall(r"ALERT fraud reported: user 'bob'", log)) == 1
    assert "twostep.challenges" in log.split("ALERT fraud reported")[0].splitlines()[-1]
    assert "locked" in twostep(home, "users", "show", "bob")


def test_a_reply_from_the_shell_approves_through_the_server(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "carol", "--mfa", "enforced")
    twostep(home, "methods", "add", "carol", "sms_reply", "--phone", "+14155550124")
    key = _key(home)
    with serving({"TWOSTEP_HOME": str(home)}) as (url,):
        headers = {"Authorization": f"Bearer {key}"}
        started = httpx.post(f"{url}/v1/validate", json={"user": "carol"}, headers=headers)
        tx = started.json()["transaction_id"]
        sent = (home / "outbox.jsonl").read_text().splitlines()[-1]
        code = re.search(r"\b(\d{6})\b", sent)
        assert code
        assert "reply delivered" in twostep(
            home, "outbox", "reply", "+14155550124", code.group(1), "--server", url
        )
        outcome = httpx.get(f"{url}/v1/validate/{tx}", headers=headers).json()
    assert outcome["result"] == "accept"


def test_without_a_server_the_command_says_so_and_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    out = twostep(home, "outbox", "press", "abc", "--server", "http://127.0.0.1:9", ok=False)
    assert "no Twostep server answers at http://127.0.0.1:9" in out
    assert "Traceback" not in out


def test_transaction_ids_never_look_like_an_option() -> None:
    # 10,000 ids: with one in 64 starting with "-", some would (1 - (63/64)**10_000 ~ 1).
    assert not any(new_transaction_id().startswith("-") for _ in range(10_000))
