"""Enrollment links from the shell: printed once, listed without the link, revoked, and on
the admin trail without the link."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import twostep
from twostep.services.enrollment_links import PATH


def test_the_cli_prints_the_link_once_and_lists_it_without(tmp_path: Path) -> None:
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "carol")
    made = twostep(home, "users", "enrollment-link", "carol")
    assert PATH in made and "shown only now" in made
    token = made.split(PATH, 1)[1].split()[0]
    listed = twostep(home, "enrollment-links", "list", "carol")
    assert "open" in listed and token not in listed
    assert "1 enrollment link(s) of carol revoked" in twostep(
        home, "enrollment-links", "revoke", "carol"
    )
    trail = twostep(home, "admin-events", "list")
    assert "enrollment_link.create" in trail and token not in trail
