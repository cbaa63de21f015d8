"""Voice prompts and remembered browsers from the shell: `twostep voice-prompts upload`,
`list`, `delete` (a refused upload is one recorded refusal with its code), `twostep users
remembered-devices` and `users forget-devices`. The audio is made by espeak-ng and sox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.audio import spoken, tone
from tests.support.cli import twostep
from twostep.bootstrap import build
from twostep.config import Config
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.slow


def test_upload_list_delete(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    spoken("Press pound to approve.", tmp_path / "greeting.wav")
    tone(1.0, tmp_path / "ok.mp3")
    tone(25.0, tmp_path / "long.wav")
    made = twostep(
        home, "voice-prompts", "upload", "en", "greeting", str(tmp_path / "greeting.wav")
    )
    assert made.startswith("en/greeting: audio/wav,")
    twostep(home, "voice-prompts", "upload", "de-CH", "success", str(tmp_path / "ok.mp3"))
    refused = twostep(
        home, "voice-prompts", "upload", "en", "denied", str(tmp_path / "long.wav"), ok=False
    )
    assert "[audio_too_long]" in refused
    listed = twostep(home, "voice-prompts", "list")
    rows = [line.split()[:3] for line in listed.splitlines()[1:]]
    assert rows == [["de", "success", "audio/mpeg"], ["en", "greeting", "audio/wav"]]
    twostep(home, "voice-prompts", "delete", "de", "success")
    assert "success" not in twostep(home, "voice-prompts", "list")
    gone = twostep(home, "voice-prompts", "delete", "de", "success", ok=False)
    assert "[voice_prompt_not_found]" in gone
    trail = twostep(home, "admin-events", "list", "--format", "json")
    actions = [(e["action"], e["result"]) for e in map(json.loads, trail.splitlines())]
    assert ("voice_prompt.upload", "ok") in actions
    assert ("voice_prompt.upload", "audio_too_long") in actions
    assert ("voice_prompt.delete", "ok") in actions


def test_remembered_devices_listed_and_forgotten(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "alice")
    app = build(Config.model_validate({"storage": {"home": home}}))
    try:
        app.admin.update_settings(OPERATOR, "default", {"remember_device_enabled": True})
        user = app.admin.get_user(OPERATOR, "default", "alice")
        assert app.remembered.remember(user.tenant_id, user.id, "my", "Firefox") is not None
    finally:
        app.close()
    listed = twostep(home, "users", "remembered-devices", "alice")
    assert listed.splitlines()[1].split()[1:3] == ["my", "Firefox"]
    assert "1 remembered browser(s) revoked" in twostep(home, "users", "forget-devices", "alice")
    assert "(none)" in twostep(home, "users", "remembered-devices", "alice")
