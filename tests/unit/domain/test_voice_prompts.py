"""Voice prompt uploads are checked by reading the audio: WAV through ``wave``, MP3 frame
by frame; at most 1 MB and under 20 s, a .wav or .mp3 whose content matches its name.
The audio is made by espeak-ng and sox; the MP3 durations are compared with soxi's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.audio import converted, duration, spoken, tone
from twostep.domain.errors import (
    AudioFormatRefused,
    AudioRefused,
    AudioTooLarge,
    AudioTooLong,
    AudioUnreadable,
    InvalidInput,
)
from twostep.domain.voice_prompts import checked, language_tag, prompt_name


class TestAccepted:
    def test_a_spoken_wav(self, tmp_path: Path) -> None:
        data = spoken("Press the pound key to approve your sign-in.", tmp_path / "g.wav")
        audio = checked("greeting.wav", data)
        assert audio.media_type == "audio/wav"
        assert audio.seconds == pytest.approx(duration(tmp_path / "g.wav"), abs=0.01)

    @pytest.mark.parametrize("seconds", [1.0, 7.5, 19.5])
    def test_mp3_durations_match_sox(self, tmp_path: Path, seconds: float) -> None:
        path = tmp_path / "t.mp3"
        audio = checked("tone.MP3", tone(seconds, path, rate=22050))
        assert audio.media_type == "audio/mpeg"
        assert audio.seconds == pytest.approx(duration(path), abs=0.1)

    def test_a_spoken_mp3_with_its_tags(self, tmp_path: Path) -> None:
        spoken("Your sign-in is approved.", tmp_path / "s.wav")
        data = converted(tmp_path / "s.wav", tmp_path / "s.mp3")
        assert checked("success.mp3", data).seconds == pytest.approx(
            duration(tmp_path / "s.mp3"), abs=0.1
        )


class TestRefused:
    def test_twenty_seconds_or_more(self, tmp_path: Path) -> None:
        with pytest.raises(AudioTooLong):
            checked("long.wav", tone(20.0, tmp_path / "long.wav"))
        with pytest.raises(AudioTooLong):
            checked("long.mp3", tone(21.0, tmp_path / "long.mp3"))

    def test_more_than_a_megabyte(self, tmp_path: Path) -> None:
        data = tone(7.0, tmp_path / "big.wav", rate=44100, channels=2)  # 1.2 MB, 7 s
        assert len(data) > 1_000_000
        with pytest.raises(AudioTooLarge):
            checked("big.wav", data)

    @pytest.mark.parametrize("name", ["prompt.ogg", "prompt", "prompt.wav.exe", "wav"])
    def test_other_extensions(self, tmp_path: Path, name: str) -> None:
        with pytest.raises(AudioFormatRefused):
            checked(name, tone(1.0, tmp_path / "t.wav"))

    def test_text_named_wav_or_mp3(self) -> None:
        for name in ("a.wav", "a.mp3"):
            with pytest.raises(AudioUnreadable):
                checked(name, b"this is not audio at all\n" * 100)

    def test_an_mp3_named_wav_and_a_wav_named_mp3(self, tmp_path: Path) -> None:
        with pytest.raises(AudioUnreadable):
            checked("a.wav", tone(1.0, tmp_path / "t.mp3"))
        with pytest.raises(AudioUnreadable):
            checked("a.mp3", tone(1.0, tmp_path / "t.wav"))

    def test_a_truncated_mp3(self, tmp_path: Path) -> None:
        data = tone(2.0, tmp_path / "t.mp3")
        with pytest.raises(AudioUnreadable):
            checked("a.mp3", data[: len(data) // 2] + b"\x00" * 300)

    def test_every_refusal_is_an_invalid_input_with_its_own_code(self) -> None:
        codes = {e.code for e in (AudioTooLarge(), AudioTooLong(), AudioUnreadable())}
        codes.add(AudioFormatRefused().code)
        assert len(codes) == 4 and issubclass(AudioRefused, InvalidInput)


class TestNames:
    def test_the_prompts(self) -> None:
        assert prompt_name("pin_greeting") == "pin_greeting"
        with pytest.raises(InvalidInput):
            prompt_name("hello")

    @pytest.mark.parametrize(("tag", "base"), [("en", "en"), ("de-CH", "de"), ("KO", "ko")])
    def test_languages_are_base_tags(self, tag: str, base: str) -> None:
        assert language_tag(tag) == base

    @pytest.mark.parametrize("tag", ["", "e", "english", "../x", "1a"])
    def test_other_languages_are_refused(self, tag: str) -> None:
        with pytest.raises(InvalidInput):
            language_tag(tag)
