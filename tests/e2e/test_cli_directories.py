"""Directories from the shell, against a real slapd: add (the password from a file, never an
argument), test, a dry run, a sync, show, list, set, an incremental sync as JSON, delete."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import twostep
from tests.support.slapd import SlapdTree


def test_a_directory_from_the_shell(tmp_path: Path, slapd: SlapdTree) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    people = [
        slapd.add_user(n, mobile="+1 415 555 01" + str(10 + i))
        for i, n in enumerate(("alice", "bob"))
    ]
    slapd.add_user("carol")
    group = slapd.add_group("MFA Users", people)
    secret = tmp_path / "reader.pass"
    secret.write_text(slapd.server.reader_password + "\n")
    settings = slapd.ldap_settings(kind="active_directory")
    out = twostep(
        home,
        "directories",
        "add",
        "corp",
        "--url",
        settings.urls[0],
        "--bind-dn",
        settings.bind_dn,
        "--base-dn",
        settings.base_dn,
        "--ca-file",
        slapd.ca_file,
        "--mfa-group",
        group.dn,
        "--phone-methods",
        "sms",
        "--attribute",
        "user_id=sAMAccountName",
        "--bind-password-file",
        str(secret),
    )
    assert "directory corp added at position 0" in out
    assert "2 users in scope" in twostep(home, "directories", "test", "corp")

    dry = twostep(home, "directories", "sync", "corp", "--dry-run")
    assert "full dry run (nothing changed)" in dry and "would be created (2):" in dry
    assert "    alice\n" in dry and "    bob" in dry
    assert "(none)" in twostep(home, "users", "list")

    synced = twostep(home, "directories", "sync", "corp")
    assert "full synced" in synced and "created 2" in synced and "methods_added 2" in synced
    assert "alice" in twostep(home, "users", "list")

    shown = twostep(home, "directories", "show", "corp")
    assert "bind_password: set" in shown and "last sync: done (full)" in shown
    assert slapd.server.reader_password not in shown
    assert "user_id=sAMAccountName" in shown and "phone_methods: sms" in shown
    listed = twostep(home, "directories", "list")
    assert "corp" in listed and "active_directory" in listed and "done" in listed

    assert "changed" in twostep(home, "directories", "set", "corp", "--sync-interval", "0")
    assert "sync_interval: 0" in twostep(home, "directories", "show", "corp")
    slapd.modify_user(people[0], sn="Changed")
    report = json.loads(twostep(home, "directories", "sync", "corp", "--json"))
    assert report["full"] is False and report["counts"]["changed"] == 1

    refused = twostep(home, "directories", "set", "corp", "--url", "http://nope", ok=False)
    assert "[invalid_setting]" in refused
    assert "nothing to change" in twostep(home, "directories", "set", "corp", ok=False)
    assert "deleted" in twostep(home, "directories", "delete", "corp")
    assert "(none)" in twostep(home, "directories", "list")
    assert "alice" in twostep(home, "users", "list")  # the users stay
