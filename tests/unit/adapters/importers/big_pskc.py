"""Large PSKC files for the memory tests: hostile floods and legitimate vendor files.

Each generator writes straight to a file, so making a 64 MiB document never holds more
than one copy of it. ``measure_import`` imports a file in a fresh interpreter and
reports its peak RSS above the loaded file, and its time;
``python -m tests.unit.adapters.importers.big_pskc KIND...`` prints that for floods of
4 MB, 16 MB and 64 MiB (``SIZES=...`` to choose) or for 100,000 ``plain`` or
``encrypted`` tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MiB = 1024 * 1024
NS = "urn:ietf:params:xml:ns:keyprov:pskc"
HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"'
    b' xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">\n'
)
TAIL = b"</KeyContainer>\n"
SEED = b"12345678901234567890"
PRE_SHARED_KEY = bytes(range(16))
_MAC_KEY = bytes(range(100, 120))
_CHUNK = 1 << 16


def _write(path: Path, parts: Iterator[bytes]) -> Path:
    with path.open("wb") as out:
        for part in parts:
            out.write(part)
    return path


def _repeat(unit: bytes, size: int) -> Iterator[bytes]:
    """``unit`` repeated to fill ``size`` bytes (whole units only), in chunks."""
    count = size // len(unit)
    block = unit * max(1, _CHUNK // len(unit))
    per_block = len(block) // len(unit)
    for _ in range(count // per_block):
        yield block
    yield unit * (count % per_block)


def _fill(size: int, middle: Callable[[int], Iterator[bytes]]) -> Iterator[bytes]:
    """A container of exactly ``size`` bytes around ``middle(room)``, padded with spaces."""
    room = size - len(HEAD) - len(TAIL)
    written = 0
    yield HEAD
    for part in middle(room):
        written += len(part)
        yield part
    yield b" " * (room - written)
    yield TAIL


# --- hostile but well-formed: no DTD, no entity, nothing defusedxml refuses ------------

FLOODS: dict[str, Callable[[int], Iterator[bytes]]] = {
    # The file: ordinary empty elements side by side under the root.
    "elements": lambda room: _repeat(b"<a/>", room),
    # Elements inside one KeyPackage.
    "in_key_package": lambda room: iter(
        [b"<KeyPackage>", *_repeat(b"<a/>", room - 30), b"</KeyPackage>"]
    ),
    # Empty key packages, and key packages each holding empty keys: what would be kept per key.
    "key_packages": lambda room: _repeat(b"<KeyPackage/>", room),
    "keys": lambda room: _repeat(b"<KeyPackage><Key/></KeyPackage>", room),
    "keys_in_one_package": lambda room: iter(
        [b"<KeyPackage>", *_repeat(b"<Key/>", room - 30), b"</KeyPackage>"]
    ),
    # Keys kept until every MAC is checked: the most the import holds per byte of file.
    "sealed_keys": lambda room: _repeat(
        b"<KeyPackage><Key><Data><Time><EncryptedValue><CipherData><CipherValue>AA=="
        b"</CipherValue></CipherData></EncryptedValue></Time></Data></Key></KeyPackage>",
        room,
    ),
    # One element nested in the next, as deep as the file allows.
    "nested": lambda room: iter(
        [*_repeat(b"<a>", room // 7 * 3), *_repeat(b"</a>", room // 7 * 4)]
    ),
    # One start tag with as many attributes as fit.
    "attributes": lambda room: iter([b"<a", *_attributes(room - 10), b"/>"]),
    # One text node, one comment: a single huge token.
    "text": lambda room: iter([b"<a>", *_repeat(b"x", room - 10), b"</a>"]),
    "comment": lambda room: iter([b"<!--", *_repeat(b"x", room - 10), b"-->"]),
}


def _attributes(room: int) -> Iterator[bytes]:
    written, i = 0, 0
    while True:
        part = b"".join(b' a%x=""' % n for n in range(i, i + 4096))
        if written + len(part) > room:
            return
        written += len(part)
        i += 4096
        yield part


def flood(path: Path, kind: str, size: int) -> Path:
    """A well-formed ``size``-byte PSKC container holding the ``kind`` flood."""
    return _write(path, _fill(size, FLOODS[kind]))


# --- legitimate: one KeyPackage per token, as a vendor writes them --------------------

_PLAIN = (
    "<KeyPackage><DeviceInfo><Manufacturer>Acme</Manufacturer><SerialNo>{serial}</SerialNo>"
    "<Model>T6</Model></DeviceInfo>"
    '<Key Id="{serial}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">'
    '<AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>'
    "<Data><Secret><PlainValue>{secret}</PlainValue></Secret>"
    "<TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data></Key></KeyPackage>\n"
)
_ENCRYPTED = (
    "<KeyPackage><DeviceInfo><Manufacturer>Acme</Manufacturer><SerialNo>{serial}</SerialNo>"
    "</DeviceInfo>"
    '<Key Id="{serial}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">'
    '<AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>'
    "<Data><Secret><EncryptedValue>"
    '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
    "<xenc:CipherData><xenc:CipherValue>{cipher}</xenc:CipherValue></xenc:CipherData>"
    "</EncryptedValue><ValueMAC>{mac}</ValueMAC></Secret>"
    "<Counter><PlainValue>0</PlainValue></Counter></Data></Key></KeyPackage>\n"
)
_MAC_METHOD = (
    "<EncryptionKey><ds:KeyName xmlns:ds='http://www.w3.org/2000/09/xmldsig#'>psk</ds:KeyName>"
    "</EncryptionKey>"
    '<MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"><MACKey>'
    '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
    "<xenc:CipherData><xenc:CipherValue>{cipher}</xenc:CipherValue></xenc:CipherData>"
    "</MACKey></MACMethod>\n"
)


def _aes_cbc(plaintext: bytes, iv: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(PRE_SHARED_KEY), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


def serial(n: int) -> str:
    return f"TK{n:07d}"


def seed(n: int) -> bytes:
    return hashlib.sha256(n.to_bytes(8, "big")).digest()[:20]  # distinct per token


def tokens(path: Path, count: int, *, encrypted: bool = False) -> Path:
    """A vendor file of ``count`` tokens: plain TOTP, or AES-128-CBC + HMAC-SHA1 HOTP
    under ``PRE_SHARED_KEY`` (RFC 6030 figure 6's layout)."""

    def parts() -> Iterator[bytes]:
        yield HEAD
        if encrypted:
            mac_key = _aes_cbc(_MAC_KEY, bytes(16))
            yield _MAC_METHOD.format(cipher=base64.b64encode(mac_key).decode()).encode()
        lines: list[str] = []
        for n in range(count):
            if encrypted:
                cipher = _aes_cbc(seed(n), n.to_bytes(16, "big"))
                mac = hmac.new(_MAC_KEY, cipher, "sha1").digest()
                lines.append(
                    _ENCRYPTED.format(
                        serial=serial(n),
                        cipher=base64.b64encode(cipher).decode(),
                        mac=base64.b64encode(mac).decode(),
                    )
                )
            else:
                secret = base64.b64encode(seed(n)).decode()
                lines.append(_PLAIN.format(serial=serial(n), secret=secret))
            if len(lines) == 1000:
                yield "".join(lines).encode()
                lines = []
        yield "".join(lines).encode()
        yield TAIL

    return _write(path, parts())


# --- measuring an import in a fresh process ------------------------------------------

# Run by a new interpreter, so the peak is this import's alone: Linux's peak RSS (VmHWM),
# reset once the file is loaded and a first small import has loaded lazy modules, and
# the time taken.
_CHILD = """
import gc, json, re, sys, time
from pathlib import Path
from twostep.adapters.importers import ImportRefused, read_pskc

def kib(field):
    status = Path("/proc/self/status").read_text()
    return int(re.search(field + r":\\s+(\\d+) kB", status).group(1))

read_pskc(bytes.fromhex(sys.argv[3]))
data = Path(sys.argv[1]).read_bytes()
key = bytes.fromhex(sys.argv[2]) or None
gc.collect()
Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
before = kib("VmRSS")
started, cpu = time.perf_counter(), time.process_time()
records, problems, code = None, [], None
try:
    records = len(read_pskc(data, key=key))
except ImportRefused as refused:
    code = refused.code
    problems = [(p.where, p.reason) for p in refused.problems]
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
peak = (kib("VmHWM") - before) * 1024
print(json.dumps(dict(size=len(data), peak=peak, seconds=seconds, cpu=cpu,
                      records=records, problems=problems, code=code)))
"""
_WARM_UP = (
    HEAD
    + b"<KeyPackage><DeviceInfo><SerialNo>1</SerialNo><StartDate>2024-01-01T00:00:00Z"
    + b'</StartDate></DeviceInfo><Key Id="1" Algorithm="urn:ietf:params:xml:ns:keyprov:'
    + b'pskc:hotp"><Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue>'
    + b"</Secret></Data></Key></KeyPackage>"
    + TAIL
)


@dataclass(frozen=True, slots=True)
class Measured:
    """One import of one file in a fresh process."""

    size: int  # bytes of the file
    peak: int  # bytes of peak RSS above the loaded file
    seconds: float
    cpu: float  # seconds of CPU (the wall time is shared with whatever else runs)
    records: int | None  # None when refused
    problems: list[tuple[str, str]]  # where, reason
    code: str | None

    def __str__(self) -> str:
        outcome = f"{self.records} records" if self.records is not None else ""
        if self.problems:
            outcome = f"refused: {self.problems[0][1][:100]}"
        return (
            f"{self.size / MiB:6.1f} MiB  peak +{self.peak / MiB:7.1f} MiB RSS  "
            f"{self.seconds:6.2f} s ({self.cpu:6.2f} s CPU)  {outcome}"
        )


def measure_import(path: Path, *, key: bytes = b"") -> Measured:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), key.hex(), _WARM_UP.hex()],
        check=True,
        capture_output=True,
        text=True,
    )
    fields = json.loads(done.stdout)
    fields["problems"] = [tuple(p) for p in fields["problems"]]
    return Measured(**fields)


def main() -> None:
    work = Path(os.environ.get("TMPDIR", "/tmp")) / "twostep-big-pskc"
    work.mkdir(exist_ok=True)
    for kind in sys.argv[1:] or ["elements"]:
        if kind in ("plain", "encrypted"):
            path = tokens(work / f"{kind}-100000.pskc", 100_000, encrypted=kind == "encrypted")
            key = PRE_SHARED_KEY if kind == "encrypted" else b""
            print(f"{path.name:34} {measure_import(path, key=key)}", flush=True)
            continue
        sizes = os.environ.get("SIZES", f"4000000,16000000,{64 * MiB}")
        for size in map(int, sizes.split(",")):
            path = flood(work / f"{kind}-{size}.pskc", kind, size)
            print(f"{path.name:34} {measure_import(path)}", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
