"""Custom voice prompts over the HTTP API: uploaded (checked: refusals with their codes),
listed, played in a Twilio call from a signed URL in place of text-to-speech for users of
that language, fetched by that URL alone (a wrong, tampered or expired one is not found),
deleted; every change in the admin trail. The audio is made by espeak-ng and sox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from defusedxml import ElementTree
from fastapi.testclient import TestClient

from tests.integration.http.test_twilio_flow import (
    PUBLIC_URL,
    add_twilio,
    gathered,
    only,
    post_signed,
    register,
    started,
)
from tests.support.audio import spoken, tone
from tests.support.fake_twilio import Recorder, serving, twilio_api
from tests.support.fakes import FakeClock

pytestmark = pytest.mark.usefixtures("backend")

PROMPTS = "/v1/tenants/default/voice-prompts"


@pytest.fixture
def twilio() -> Iterator[Recorder]:
    with serving(Recorder(answer=twilio_api)) as api:
        yield api


def upload(
    client: TestClient, admin: dict[str, str], language: str, prompt: str, name: str, data: bytes
) -> tuple[int, dict[str, object]]:
    r = client.put(
        f"{PROMPTS}/{language}/{prompt}/audio",
        files={"file": (name, data, "application/octet-stream")},
        headers=admin,
    )
    return r.status_code, r.json()


def greeting(tmp_path: Path) -> bytes:
    return spoken("Someone is signing in. Press pound to approve.", tmp_path / "greeting.wav")


def played(twiml_text: str) -> str | None:
    """The URL the call's <Gather> plays, or None when it speaks (<Say>)."""
    gather = ElementTree.fromstring(twiml_text).find("Gather")
    assert gather is not None
    play = gather.find("Play")
    return None if play is None else str(play.text)


class TestUpload:
    def test_a_wav_is_stored_listed_and_audited(
        self, client: TestClient, admin: dict[str, str], tmp_path: Path
    ) -> None:
        status, body = upload(client, admin, "en", "greeting", "hello.wav", greeting(tmp_path))
        assert status == 200, body
        assert (body["language"], body["prompt"], body["media_type"]) == (
            "en",
            "greeting",
            "audio/wav",
        )
        listed = client.get(PROMPTS, headers=admin).json()
        assert [(p["language"], p["prompt"]) for p in listed] == [("en", "greeting")]
        trail = client.get("/v1/tenants/default/admin-events", headers=admin).json()["events"]
        (event,) = [e for e in trail if e["action"] == "voice_prompt.upload"]
        assert event["target"] == "en/greeting"
        assert set(event["changes"]) == {"media_type", "seconds", "size"}  # not the audio

    @pytest.mark.parametrize(
        ("name", "make", "status", "code"),
        [
            ("long.wav", lambda p: tone(21, p / "l.wav"), 422, "audio_too_long"),
            ("big.wav", lambda p: tone(5.7, p / "b.wav", 44100, 2), 422, "audio_too_large"),
            ("notes.wav", lambda p: b"not audio" * 50, 422, "audio_unreadable"),
            ("tone.ogg", lambda p: tone(1, p / "t.wav"), 422, "audio_format_refused"),
        ],
    )
    def test_refusals_have_stable_codes(
        self,
        client: TestClient,
        admin: dict[str, str],
        tmp_path: Path,
        name: str,
        make: object,
        status: int,
        code: str,
    ) -> None:
        got, body = upload(client, admin, "en", "greeting", name, make(tmp_path))  # type: ignore[operator]
        assert (got, body["error"]["code"]) == (status, code)  # type: ignore[index]

    def test_an_unknown_prompt_or_language(
        self, client: TestClient, admin: dict[str, str], tmp_path: Path
    ) -> None:
        data = greeting(tmp_path)
        assert upload(client, admin, "en", "hello", "a.wav", data)[0] == 422
        assert upload(client, admin, "english", "greeting", "a.wav", data)[0] == 422

    def test_a_body_far_past_a_megabyte_is_refused_before_it_is_read(
        self, client: TestClient, admin: dict[str, str]
    ) -> None:
        status, body = upload(client, admin, "en", "greeting", "a.wav", b"\0" * 3_000_000)
        assert (status, body["error"]["code"]) == (413, "body_too_large")


class TestCalls:
    def test_the_call_plays_the_recording_from_a_signed_url(
        self,
        client: TestClient,
        admin: dict[str, str],
        integration_key: dict[str, str],
        twilio: Recorder,
        tmp_path: Path,
    ) -> None:
        data = greeting(tmp_path)
        assert upload(client, admin, "en", "greeting", "g.wav", data)[0] == 200
        register(client, admin, "voice")
        add_twilio(client, admin, twilio.url)
        started(client, integration_key)
        url = played(only(twilio, "Calls.json").form()["Twiml"])
        assert url is not None and url.startswith(f"{PUBLIC_URL}/v1/prompts/")
        fetched = client.get(url.removeprefix(PUBLIC_URL))  # no key: the URL is enough
        assert fetched.status_code == 200
        assert fetched.headers["content-type"] == "audio/wav" and fetched.content == data

    def test_the_answer_after_the_keys_plays_its_recording(
        self,
        client: TestClient,
        admin: dict[str, str],
        integration_key: dict[str, str],
        twilio: Recorder,
        tmp_path: Path,
    ) -> None:
        data = spoken("Your sign-in is approved.", tmp_path / "ok.wav")
        assert upload(client, admin, "en", "success", "ok.wav", data)[0] == 200
        register(client, admin, "voice")
        gateway = add_twilio(client, admin, twilio.url)
        tx = started(client, integration_key)
        assert played(only(twilio, "Calls.json").form()["Twiml"]) is None  # no greeting: <Say>
        action = f"{PUBLIC_URL}/v1/gateways/{gateway['id']}/calls?ref={tx}"
        answer = ElementTree.fromstring(post_signed(client, action, gathered("")).content)
        assert [child.tag for child in answer] == ["Play", "Hangup"]

    def test_users_of_another_language_hear_text_to_speech(
        self,
        client: TestClient,
        admin: dict[str, str],
        integration_key: dict[str, str],
        twilio: Recorder,
        tmp_path: Path,
    ) -> None:
        assert upload(client, admin, "de", "greeting", "g.wav", greeting(tmp_path))[0] == 200
        register(client, admin, "voice")
        add_twilio(client, admin, twilio.url)
        started(client, integration_key)
        assert played(only(twilio, "Calls.json").form()["Twiml"]) is None

    def test_a_wrong_tampered_or_expired_url_is_not_found(
        self,
        client: TestClient,
        admin: dict[str, str],
        integration_key: dict[str, str],
        twilio: Recorder,
        tmp_path: Path,
        clock: FakeClock,
    ) -> None:
        upload(client, admin, "en", "greeting", "g.wav", greeting(tmp_path))
        register(client, admin, "voice")
        add_twilio(client, admin, twilio.url)
        started(client, integration_key)
        url = played(only(twilio, "Calls.json").form()["Twiml"]) or ""
        parts = urlsplit(url.removeprefix(PUBLIC_URL))
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        flipped = ("0" if query["sig"][0] != "0" else "1") + query["sig"][1:]
        later = str(int(query["exp"]) + 3600)
        for path, params in (
            (parts.path, {**query, "sig": flipped}),
            (parts.path, {**query, "exp": later}),
            (parts.path, {"exp": query["exp"]}),
            (parts.path[:-1] + ("1" if parts.path.endswith("0") else "0"), query),  # another id
        ):
            r = client.get(path, params=params)
            assert (r.status_code, r.json()["error"]["code"]) == (404, "voice_prompt_not_found")
        clock.advance(901)
        r = client.get(parts.path, params=query)
        assert r.status_code == 404

    def test_a_deleted_recording_is_spoken_again(
        self,
        client: TestClient,
        admin: dict[str, str],
        integration_key: dict[str, str],
        twilio: Recorder,
        tmp_path: Path,
    ) -> None:
        upload(client, admin, "en", "greeting", "g.wav", greeting(tmp_path))
        r = client.delete(f"{PROMPTS}/en/greeting", headers=admin)
        assert r.status_code == 204
        r = client.delete(f"{PROMPTS}/en/greeting", headers=admin)
        assert r.json()["error"]["code"] == "voice_prompt_not_found"
        register(client, admin, "voice")
        add_twilio(client, admin, twilio.url)
        started(client, integration_key)
        assert played(only(twilio, "Calls.json").form()["Twiml"]) is None
