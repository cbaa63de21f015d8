"""Voice prompts on the Gateways page: a recording uploaded (checked: a refusal is a page
with its code), listed, deleted; a help desk neither sees nor changes them. Users' pages:
"forget remembered browsers". The audio is made by espeak-ng and sox."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.support import builders
from tests.support.audio import spoken, tone
from tests.unit.interfaces.web.portal.conftest import SignIn, csrf, post
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR

PAGE = "/admin/tenants/default/gateways"
UPLOAD = PAGE + "/voice-prompts/audio"


def upload(pages: TestClient, name: str, data: bytes, prompt: str = "greeting") -> object:
    token = csrf(pages.get(PAGE).text)
    return pages.post(
        UPLOAD,
        data={"csrf": token, "language": "en", "prompt": prompt},
        files={"file": (name, data, "audio/wav")},
    )


def test_a_recording_is_uploaded_listed_and_deleted(
    app: App, pages: TestClient, admin_as: SignIn, tmp_path: Path
) -> None:
    admin_as(Role.TENANT_ADMIN)
    assert "No recording: calls speak every prompt." in pages.get(PAGE).text
    done = upload(pages, "hello.wav", spoken("Press pound to approve.", tmp_path / "h.wav"))
    assert done.headers.get("location") == PAGE + "?done=prompt_uploaded", done.text  # type: ignore[attr-defined]
    listed = pages.get(PAGE).text
    assert '<td>en</td><th scope="row">greeting</th><td>audio/wav</td>' in listed
    (stored,) = app.voice_prompts.list(OPERATOR, "default")
    post(pages, PAGE, PAGE + "/voice-prompts/delete", language="en", prompt="greeting")
    assert app.voice_prompts.list(OPERATOR, "default") == []
    assert stored.prompt == "greeting"


def test_a_refused_recording_says_why(
    app: App, pages: TestClient, admin_as: SignIn, tmp_path: Path
) -> None:
    admin_as(Role.TENANT_ADMIN)
    refused = upload(pages, "long.wav", tone(21, tmp_path / "long.wav"))
    assert refused.status_code == 422 and "audio_too_long" in refused.text  # type: ignore[attr-defined]
    assert app.voice_prompts.list(OPERATOR, "default") == []


def test_the_help_desk_cannot_upload(
    app: App, pages: TestClient, admin_as: SignIn, tmp_path: Path
) -> None:
    admin_as(Role.HELP_DESK)
    assert "Voice prompts" not in pages.get(PAGE).text
    token = csrf(pages.get("/admin").text)  # a token of a page the help desk may see
    refused = pages.post(
        UPLOAD,
        data={"csrf": token, "language": "en", "prompt": "greeting"},
        files={"file": ("a.wav", tone(1, tmp_path / "a.wav"), "audio/wav")},
    )
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert app.voice_prompts.list(OPERATOR, "default") == []


def test_an_admin_forgets_a_users_remembered_browsers(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.HELP_DESK)
    app.admin.update_settings(OPERATOR, "default", {"remember_device_enabled": True})
    builders.user(app, "alice")
    user = app.admin.get_user(OPERATOR, "default", "alice")
    made = app.remembered.remember(user.tenant_id, user.id, "my", "Firefox")
    assert made is not None
    page = "/admin/tenants/default/users/alice"
    assert "Forget 1 remembered browser(s)" in pages.get(page).text
    done = post(pages, page, page + "/forget-devices")
    assert done.headers.get("location") == page + "?done=forgotten"  # type: ignore[attr-defined]
    assert not app.remembered.check(made[0], user.tenant_id, user.id, "my")
    assert "remembered browser(s)" not in pages.get(page).text
