"""A RADIUS client's integration activated again from the shell after a provider
replacement: the exchange against a running server says the client is activated and
prints no key (the NAS keeps its shared secret)."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import twostep
from tests.support.servers import serving


def test_a_radius_clients_activation_prints_no_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    twostep(home, "radius-clients", "add", "nas", "--network", "127.0.0.1")
    for name in ("A", "B"):  # a first provider, then its replacement
        made = twostep(
            home, "providers", "create", name, "--billing-model", "per_user",
            "--link-tenant", "default",
        )  # fmt: skip
        if name == "A":
            twostep(home, "providers", "delete", made.split()[1])
    shown = twostep(home, "integrations", "activation", "nas")
    code = shown.split("code:")[1].split()[0]
    password = shown.split("password:")[1].split()[0]
    with serving({"TWOSTEP_HOME": str(home)}) as urls:
        done = twostep(home, "integrations", "activate", code, password, "--url", urls[0])
    assert "integration nas of tenant default activated" in done
    assert "shared secret is unchanged" in done
    assert "tsi_" not in done
