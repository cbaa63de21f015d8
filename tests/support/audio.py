"""Recordings made by real tools for the voice prompt tests: espeak-ng speaks a prompt,
sox makes tones of a chosen length and converts to MP3 (libsox-fmt-mp3). A missing tool
fails in CI (tests.conftest.missing)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import missing

TIMEOUT = 60


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        missing(name)
    assert found is not None
    return found


def spoken(text: str, path: Path) -> bytes:
    """``text`` said by espeak-ng, as a PCM WAV file."""
    subprocess.run([_tool("espeak-ng"), "-w", str(path), text], check=True, timeout=TIMEOUT)
    return path.read_bytes()


def tone(seconds: float, path: Path, rate: int = 8000, channels: int = 1) -> bytes:
    """A 440 Hz tone lasting ``seconds``; an .mp3 ``path`` makes MP3 (sox's LAME)."""
    command = [_tool("sox"), "-n", "-r", str(rate), "-c", str(channels)]
    if path.suffix != ".mp3":
        command += ["-b", "16"]
    command += [str(path), "synth", str(seconds), "sine", "440"]
    subprocess.run(command, check=True, timeout=TIMEOUT, capture_output=True)
    return path.read_bytes()


def converted(source: Path, target: Path) -> bytes:
    """``source`` in ``target``'s format (by its extension), through sox."""
    subprocess.run(
        [_tool("sox"), str(source), str(target)], check=True, timeout=TIMEOUT, capture_output=True
    )
    return target.read_bytes()


def duration(path: Path) -> float:
    """What sox itself reads as the file's length, in seconds."""
    done = subprocess.run(
        [_tool("soxi"), "-D", str(path)], check=True, timeout=TIMEOUT, capture_output=True
    )
    return float(done.stdout)
