"""Custom voice prompts: a tenant's recordings played in a call in place of text-to-speech
(MFA Server's custom voice messages), one per prompt and language.

An upload is checked by reading the audio itself, not its name alone: a WAV file through
the standard library's ``wave`` (PCM; its frames give the duration), an MP3 file frame by
frame (MPEG-1/2/2.5 Layer III headers, each frame's length from its bit rate and sample
rate, summed into the duration). At most 1 MB and under 20 s, as MFA Server allowed.
"""

from __future__ import annotations

import io
import re
import wave
from dataclasses import dataclass
from typing import Literal, get_args

from twostep.domain.errors import (
    AudioFormatRefused,
    AudioTooLarge,
    AudioTooLong,
    AudioUnreadable,
    InvalidInput,
)

Prompt = Literal[
    "greeting", "pin_greeting", "fraud", "retry", "extension", "success", "denied", "activation"
]
PROMPTS: tuple[Prompt, ...] = get_args(Prompt)
MAX_BYTES = 1_000_000
MAX_SECONDS = 20.0
MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}
LANGUAGE = re.compile(r"[a-z]{2,3}")

# The words of a call (factors/phone_text.py's keys) each prompt replaces. "extension" and
# "activation" are kept for MFA Server's sets of recordings; no call says them yet.
PROMPT_OF_WORDS: dict[str, Prompt] = {
    "voice": "greeting",
    "voice_pin": "pin_greeting",
    "fraud": "fraud",
    "retry": "retry",
    "approved": "success",
    "denied": "denied",
}


@dataclass(frozen=True, slots=True)
class Audio:
    media_type: str
    seconds: float


@dataclass(frozen=True, slots=True)
class VoicePrompt:
    """A tenant's recording (its audio is read on its own: only the call fetches it)."""

    tenant_id: int
    language: str
    prompt: Prompt
    id: str  # new with every upload: the signed URL names it
    media_type: str
    seconds: float
    size: int
    created_at: float


def prompt_name(value: str) -> Prompt:
    if value not in PROMPTS:
        raise InvalidInput(f"prompt must be one of {', '.join(PROMPTS)}", field="prompt")
    return value


def language_tag(value: str) -> str:
    """A prompt's language: the base of a BCP 47 tag (``de-CH`` -> ``de``), as calls pick it."""
    base = value.split("-", maxsplit=1)[0].strip().lower()
    if not LANGUAGE.fullmatch(base):
        raise InvalidInput("language must be a language code such as en or de", field="language")
    return base


def checked(filename: str, data: bytes) -> Audio:
    """The audio's type and duration, or an AudioRefused saying why it is not accepted."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in MEDIA_TYPES:
        raise AudioFormatRefused("a prompt is a .wav or .mp3 file", field="file")
    if len(data) > MAX_BYTES:
        raise AudioTooLarge(f"a prompt is at most {MAX_BYTES:,} bytes", field="file")
    seconds = _wav_seconds(data) if extension == "wav" else _mp3_seconds(data)
    if seconds >= MAX_SECONDS:
        raise AudioTooLong(
            f"a prompt lasts under {MAX_SECONDS:.0f} s; this one {seconds:.1f} s", field="file"
        )
    return Audio(MEDIA_TYPES[extension], round(seconds, 3))


def _wav_seconds(data: bytes) -> float:
    try:
        with wave.open(io.BytesIO(data)) as audio:
            frames: int = audio.getnframes()
            rate: int = audio.getframerate()
    except (wave.Error, EOFError, ValueError) as exc:
        raise AudioUnreadable("the file is not a PCM WAV recording", field="file") from exc
    if rate <= 0 or frames <= 0:
        raise AudioUnreadable("the WAV file holds no sound", field="file")
    return frames / rate


# MPEG audio, Layer III: bit rates (kbit/s) by version row and index; sample rates (Hz).
_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
MIN_FRAMES = 2  # one stray header is no recording


def _mp3_seconds(data: bytes) -> float:
    """The duration, from every Layer III frame in turn (an ID3v2 tag skipped first): a
    file whose frames do not follow one another to its end is not an MP3 file."""
    at = _after_id3(data)
    seconds, frames = 0.0, 0
    end = len(data)
    if data[-128:-125] == b"TAG":  # an ID3v1 tag at the end
        end -= 128
    while at + 4 <= end:
        header = int.from_bytes(data[at : at + 4], "big")
        frame = _frame(header)
        if frame is None:
            break
        length, samples, rate = frame
        seconds += samples / rate
        frames += 1
        at += length
    if frames < MIN_FRAMES or at < end - 4:
        raise AudioUnreadable("the file is not an MP3 (MPEG Layer III) recording", field="file")
    return seconds


def _after_id3(data: bytes) -> int:
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = 0
    for byte in data[6:10]:  # a synchsafe integer: 7 bits per byte
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def _frame(header: int) -> tuple[int, int, int] | None:
    """(frame length in bytes, samples, sample rate) of a Layer III header, or None."""
    if header >> 21 != 0x7FF:  # the frame sync
        return None
    version = (header >> 19) & 0b11  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
    layer = (header >> 17) & 0b11  # 1: Layer III
    bitrate_index = (header >> 12) & 0b1111
    rate_index = (header >> 10) & 0b11
    padding = (header >> 9) & 1
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _BITRATES[1 if version == 3 else 2][bitrate_index] * 1000
    rate = _SAMPLE_RATES[version][rate_index]
    samples = 1152 if version == 3 else 576
    length = samples // 8 * bitrate // rate + padding
    return length, samples, rate
