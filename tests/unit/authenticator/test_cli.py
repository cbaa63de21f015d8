"""``twostep-authenticator`` through click's CliRunner against the fake device API,
which checks every signature the way the real server will."""

from __future__ import annotations

import re
import stat
import threading
import time
import tomllib
from pathlib import Path

import pytest

from tests.unit.authenticator.conftest import Cli
from tests.unit.authenticator.fake_server import TOTP_SECRET, FakeServer
from twostep.authenticator.cli import Runtime
from twostep.authenticator.keystore import Keystore

DOC_CODE = "K7PQ-9ZRM-2XTV-HW4N"


def qr_text(url: str, code: str) -> str:
    from urllib.parse import quote

    return f"twostep://activate?url={quote(url + '/v1/devices/activate', safe='')}&code={code}"


# -- activate, list, remove --------------------------------------------------------------


def test_activate_stores_the_account_with_its_private_key(
    cli: Cli, fake: FakeServer, home: Path
) -> None:
    fake.add_code(DOC_CODE, user="alice")
    out = cli.ok("activate", f"{fake.url}/v1/devices/activate", DOC_CODE, "--name", "Alice's")
    device = fake.only_device()
    assert f"Activated alice@default (Twostep) on {fake.url}" in out.output
    assert device.device_id in out.output
    assert device.body["name"] == "Alice's" and device.body["platform"] == "reference"
    assert device.body["push"] == {"kind": "pull"} and device.key_type == "ed25519"
    (account,) = Keystore(home).load()
    assert account.server == fake.url and account.device_id == device.device_id
    assert account.key().public_bytes() == device.public_key  # the private half, kept here
    assert account.totp.secret == TOTP_SECRET
    assert stat.S_IMODE((home / "accounts.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_activate_with_the_qr_text_and_a_p256_key(cli: Cli, fake: FakeServer) -> None:
    fake.add_code("ABCD2345", tenant="acme", user="bob")
    cli.ok("activate", qr_text(fake.url, "ABCD2345"), "--key-type", "p256")
    device = fake.only_device()
    assert device.key_type == "p256" and len(device.public_key) == 65
    listed = cli.ok("list").output
    assert re.search(rf"Twostep\s+bob\s+acme\s+{device.device_id}\s+{re.escape(fake.url)}", listed)
    fake.push(device.device_id, number=17)
    cli.ok("watch", "bob@acme", "--approve-with-number", "17", "--once", "--timeout", "10")
    assert [(a.result, a.reason) for a in fake.answers] == [("accept", None)]


def test_activate_with_a_push_channel(cli: Cli, fake: FakeServer) -> None:
    fake.add_code("ABCD2345")
    cli.ok("activate", fake.url, "ABCD2345", "--push", "ntfy", "--push-target", "https://n/t")
    assert fake.only_device().body["push"] == {"kind": "ntfy", "url": "https://n/t"}
    result = cli("activate", fake.url, "ABCD2345", "--push", "fcm")
    assert result.exit_code == 2 and "needs a target" in result.output


def test_a_wrong_code_stores_nothing(cli: Cli, fake: FakeServer, home: Path) -> None:
    result = cli("activate", fake.url, "WRONG123")
    assert result.exit_code == 1
    assert "Error: [activation_invalid]" in result.output
    assert Keystore(home).load() == []


def test_a_code_is_single_use(cli: Cli, fake: FakeServer) -> None:
    fake.add_code("ABCD2345")
    cli.ok("activate", fake.url, "ABCD2345")
    assert cli("activate", fake.url, "ABCD2345").exit_code == 1


def test_unreachable_server(cli: Cli, home: Path) -> None:
    result = cli("activate", "http://127.0.0.1:9", "ABCD2345")
    assert result.exit_code == 1 and "cannot reach http://127.0.0.1:9" in result.output


def test_bad_activation_input(cli: Cli) -> None:
    result = cli("activate", "https://mfa.example.com")
    assert result.exit_code == 1 and "activation code is needed" in result.output


def test_list_without_accounts(cli: Cli) -> None:
    assert "No accounts" in cli.ok("list").output


def test_remove_asks_first(cli: Cli, activated: str, home: Path) -> None:
    result = cli("remove", activated, input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert len(Keystore(home).load()) == 1
    out = cli.ok("remove", input="y\n").output  # the only account may go unnamed
    assert f"Removed alice@default (device {activated})" in out
    assert Keystore(home).load() == []
    assert "no accounts yet" in cli("remove", "--yes").output


def test_home_option(cli: Cli, fake: FakeServer, tmp_path: Path) -> None:
    fake.add_code("ABCD2345")
    cli.ok("--home", str(tmp_path / "elsewhere"), "activate", fake.url, "ABCD2345")
    assert len(Keystore(tmp_path / "elsewhere").load()) == 1
    assert "No accounts" in cli.ok("list").output


# -- code --------------------------------------------------------------------------------


def test_code_shows_current_codes_with_seconds_left(cli: Cli, activated: str) -> None:
    rfc_time = Runtime(clock=lambda: 1111111109.0)
    out = cli.ok("code", obj=rfc_time).output  # RFC 6238: 07081804 -> six digits 081804
    assert re.fullmatch(rf"081804  \( 1 s left\)  Twostep: alice@default  \[{activated}\]\n", out)
    assert cli.ok("code", activated, "--plain", obj=rfc_time).output == "081804\n"
    assert cli("code", "nobody@default").exit_code == 1


def test_code_for_all_accounts(cli: Cli, fake: FakeServer, activated: str) -> None:
    fake.add_code("BCDE3456", user="bob")
    cli.ok("activate", fake.url, "BCDE3456")
    lines = cli.ok("code").output.splitlines()
    assert len(lines) == 2 and "alice@default" in lines[0] and "bob@default" in lines[1]
    assert "several accounts" in cli("code", "--plain").output


# -- watch -------------------------------------------------------------------------------


def test_watch_approves_with_the_number(cli: Cli, fake: FakeServer, activated: str) -> None:
    request = fake.push(activated, number=42, integration="vpn", message="Approve VPN?")
    out = cli.ok("watch", "--approve-with-number", "42", "--once", "--timeout", "10").output
    assert "integration: vpn" in out and "client IP:   203.0.113.7" in out
    assert "message:     Approve VPN?" in out and "expires in" in out
    assert "Approved. Server result: accept" in out
    (answer,) = fake.answers
    assert answer.transaction_id == request.transaction_id and answer.result == "accept"
    assert answer.body["nonce"] == request.nonce and answer.body["number"] == 42
    assert any(
        re.fullmatch(rf"GET\n/v1/devices/{activated}/requests\?wait=\d+\n\d+", m)
        for m in fake.signed
    )
    assert f"POST\n/v1/devices/{activated}/requests/{request.transaction_id}" in "".join(
        fake.signed
    )


def test_a_wrong_number_is_rejected_and_exits_1(cli: Cli, fake: FakeServer, activated: str) -> None:
    fake.push(activated, number=42)
    result = cli("watch", "--approve-with-number", "24", "--once", "--timeout", "10")
    assert result.exit_code == 1
    assert "The approval was not accepted. Server result: reject (wrong_number)" in result.output


@pytest.mark.parametrize(("flag", "reason"), [("--deny", "denied"), ("--fraud", "fraud_reported")])
def test_deny_and_fraud(cli: Cli, fake: FakeServer, activated: str, flag: str, reason: str) -> None:
    fake.push(activated)
    cli.ok("watch", activated, flag, "--once", "--timeout", "10")
    (answer,) = fake.answers
    assert answer.body["decision"] == flag.strip("-") and "number" not in answer.body
    assert (answer.result, answer.reason) == ("reject", reason)


def test_watch_waits_for_a_request_that_arrives_later(
    cli: Cli, fake: FakeServer, activated: str
) -> None:
    timer = threading.Timer(0.5, fake.push, args=(activated,), kwargs={"number": 55})
    timer.start()
    try:
        started = time.monotonic()
        cli.ok("watch", "--approve-with-number", "55", "--once", "--timeout", "10")
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5
    assert [a.result for a in fake.answers] == ["accept"]
    assert fake.polls[0] == 10  # long-poll: the server was asked to hold it


def test_watch_handles_several_requests_until_the_timeout(
    cli: Cli, fake: FakeServer, activated: str
) -> None:
    fake.push(activated, number=42)
    fake.push(activated, number=42)
    cli.ok("watch", "--approve-with-number", "42", "--timeout", "1.5")
    assert [a.result for a in fake.answers] == ["accept", "accept"]


def test_once_without_a_request_times_out(cli: Cli, fake: FakeServer, activated: str) -> None:
    started = time.monotonic()
    result = cli("watch", "--deny", "--once", "--timeout", "1")
    assert result.exit_code == 1 and "No sign-in request within 1 s" in result.output
    assert time.monotonic() - started < 4
    assert cli("watch", "--deny", "--timeout", "0.5").exit_code == 0  # a bounded watch


def test_interactive_approve(cli: Cli, fake: FakeServer, activated: str) -> None:
    fake.push(activated, number=7)
    out = cli.ok("watch", "--once", "--timeout", "10", input="x\n07\n").output
    assert "Type the number shown on the sign-in page" in out
    assert "Please type the number, d, f or s." in out
    assert fake.answers[0].body["number"] == 7 and fake.answers[0].result == "accept"


def test_interactive_fraud_is_confirmed(cli: Cli, fake: FakeServer, activated: str) -> None:
    fake.push(activated)
    out = cli.ok("watch", "--once", "--timeout", "10", input="f\nn\nf\ny\n").output
    assert out.count("Report this sign-in as fraud?") == 2
    assert "Reported as fraud" in out
    assert [a.body["decision"] for a in fake.answers] == ["fraud"]


def test_interactive_deny_and_skip(cli: Cli, fake: FakeServer, activated: str) -> None:
    skipped = fake.push(activated)
    out = cli.ok("watch", "--once", "--timeout", "10", input="s\n").output
    assert "Skipped" in out and fake.answers == []
    assert fake.pending[activated] == [skipped]
    cli.ok("watch", "--once", "--timeout", "10", input="deny\n")
    assert [a.body["decision"] for a in fake.answers] == ["deny"]


def test_a_deactivated_device_is_told_to_activate_again(
    cli: Cli, fake: FakeServer, activated: str
) -> None:
    fake.devices[activated].active = False
    result = cli("watch", "--deny", "--once", "--timeout", "5")
    assert result.exit_code == 1
    assert "Authentication request is not for an activated account." in result.output
    assert f"twostep-authenticator remove {activated}) and activate it again" in result.output


def test_a_wrong_clock_is_refused_by_the_server(cli: Cli, fake: FakeServer, activated: str) -> None:
    behind = Runtime(clock=lambda: time.time() - 120)
    result = cli("watch", "--deny", "--once", "--timeout", "5", obj=behind)
    assert result.exit_code == 1
    assert "[unauthenticated]" in result.output and "check this computer's clock" in result.output


def test_flags_exclude_each_other(cli: Cli, activated: str) -> None:
    result = cli("watch", "--deny", "--fraud")
    assert result.exit_code == 2 and "at most one" in result.output


def test_several_accounts_need_a_choice(cli: Cli, fake: FakeServer, activated: str) -> None:
    fake.add_code("BCDE3456", user="bob")
    cli.ok("activate", fake.url, "BCDE3456")
    result = cli("watch", "--deny", "--once", "--timeout", "1")
    assert result.exit_code == 1 and "several accounts" in result.output
    assert "alice@default" in result.output and "bob@default" in result.output


def test_the_console_script_is_declared() -> None:
    pyproject = Path(__file__).parents[3] / "pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
    assert scripts["twostep-authenticator"] == "twostep.authenticator.cli:main"
