"""``app_code``: the otpauth:// URI an authenticator app scans (Key Uri Format), its QR
code, and matching the app's codes under the tenant's settings."""

from __future__ import annotations

import base64
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree

import pytest

from tests.conftest import missing
from twostep.domain.entities import (
    Method,
    MethodKind,
    MethodStatus,
    OtpAlgorithm,
    OtpParams,
    OtpType,
)
from twostep.domain.settings import TenantSettings
from twostep.factors import otp
from twostep.factors.app_code import AppCodeFactor, provisioning_uri
from twostep.interfaces import qr

SEED_20 = bytes(range(1, 21))
NOW = 1_800_000_000.0


def uri_parts(uri: str) -> tuple[str, str, str, dict[str, str]]:
    """scheme, type, decoded label, and the query parameters (each given exactly once)."""
    parts = urlsplit(uri)
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    assert all(len(v) == 1 for v in query.values()), query
    return parts.scheme, parts.netloc, unquote(parts.path[1:]), {k: v[0] for k, v in query.items()}


def b32decode_unpadded(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


class TestProvisioningUri:
    def test_a_plain_uri(self) -> None:
        uri = provisioning_uri(SEED_20, OtpParams(), "Twostep", "alice")
        assert uri == (
            "otpauth://totp/Twostep:alice?secret=AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYU"
            "&issuer=Twostep&algorithm=SHA1&digits=6&period=30"
        )

    def test_scheme_and_type(self) -> None:
        scheme, kind, _, _ = uri_parts(provisioning_uri(SEED_20, OtpParams(), "Acme", "bob"))
        assert (scheme, kind) == ("otpauth", "totp")

    def test_the_label_is_issuer_colon_account(self) -> None:
        _, _, label, _ = uri_parts(provisioning_uri(SEED_20, OtpParams(), "Acme", "bob"))
        assert label == "Acme:bob"

    def test_spaces_in_issuer_and_account_are_percent_encoded_not_plus(self) -> None:
        uri = provisioning_uri(SEED_20, OtpParams(), "Acme Corp", "alice smith@example.com")
        assert urlsplit(uri).path == "/Acme%20Corp:alice%20smith@example.com"
        assert "issuer=Acme%20Corp" in uri
        assert " " not in uri
        assert "+" not in uri
        _, _, label, query = uri_parts(uri)
        assert label == "Acme Corp:alice smith@example.com"
        assert query["issuer"] == "Acme Corp"

    @pytest.mark.parametrize(
        "account",
        ["alice/ops", "who?what", "a#b", "50%off", "j\u00fcrgen", "DOMAIN\\alice", "a&b=c"],
    )
    def test_reserved_and_non_ascii_characters_in_the_account_round_trip(
        self, account: str
    ) -> None:
        uri = provisioning_uri(SEED_20, OtpParams(), "Acme", account)
        assert uri.isascii()
        parts = urlsplit(uri)
        assert not parts.fragment  # a '#' did not cut the URI short
        assert unquote(parts.path[1:]) == f"Acme:{account}"
        assert uri_parts(uri)[3]["secret"] == otp.b32encode(SEED_20)

    @pytest.mark.parametrize(
        "issuer", ["R&D Labs", "Acme=Corp", "100% Secure", "S\u00e9curit\u00e9"]
    )
    def test_reserved_characters_in_the_issuer_do_not_break_the_query(self, issuer: str) -> None:
        uri = provisioning_uri(SEED_20, OtpParams(), issuer, "alice")
        _, _, label, query = uri_parts(uri)
        assert label == f"{issuer}:alice"
        assert query["issuer"] == issuer
        assert set(query) == {"secret", "issuer", "algorithm", "digits", "period"}

    @pytest.mark.parametrize("algorithm", list(OtpAlgorithm))
    def test_the_secret_is_unpadded_base32_of_the_seed(self, algorithm: OtpAlgorithm) -> None:
        seed = otp.new_seed(algorithm)
        _, _, _, query = uri_parts(provisioning_uri(seed, OtpParams(), "Acme", "alice"))
        secret = query["secret"]
        assert "=" not in secret
        assert re.fullmatch(r"[A-Z2-7]+", secret)
        assert b32decode_unpadded(secret) == seed
        assert otp.parse_seed(secret) == seed

    @pytest.mark.parametrize(
        "params",
        [
            OtpParams(algorithm=OtpAlgorithm.SHA1, digits=6, period=30),
            OtpParams(algorithm=OtpAlgorithm.SHA256, digits=8, period=60),
            OtpParams(algorithm=OtpAlgorithm.SHA512, digits=8, period=30),
        ],
    )
    def test_algorithm_digits_and_period_parameters(self, params: OtpParams) -> None:
        _, _, _, query = uri_parts(provisioning_uri(SEED_20, params, "Acme", "alice"))
        assert query["algorithm"] == params.algorithm.value
        assert query["digits"] == str(params.digits)
        assert query["period"] == str(params.period)

    def test_an_app_that_reads_the_uri_produces_codes_the_factor_accepts(self) -> None:
        settings = TenantSettings(app_code_algorithm="SHA256", app_code_digits=8)
        params = AppCodeFactor().new_params(settings)
        uri = provisioning_uri(otp.new_seed(params.algorithm), params, settings.issuer, "alice")
        # What an authenticator app does with the URI: decode the secret, read the parameters.
        _, _, _, query = uri_parts(uri)
        app_seed = b32decode_unpadded(query["secret"])
        app_params = OtpParams(
            algorithm=OtpAlgorithm(query["algorithm"]),
            digits=int(query["digits"]),
            period=int(query["period"]),
        )
        code = otp.hotp(app_seed, app_params, otp.time_step(NOW, app_params.period))
        method = app_method(params)
        match = AppCodeFactor().match(method, app_seed, code, NOW, settings)
        assert match is not None
        assert match.step == otp.time_step(NOW, params.period)


def app_method(params: OtpParams, drift: int = 0) -> Method:
    return Method(
        id="m1",
        user_id=1,
        kind=MethodKind.APP_CODE,
        status=MethodStatus.ACTIVE,
        otp=params,
        drift=drift,
    )


class TestAppCodeFactor:
    def test_new_params_are_totp_sha1_six_digits_thirty_seconds_by_default(self) -> None:
        assert AppCodeFactor().new_params(TenantSettings()) == OtpParams(
            type=OtpType.TOTP, algorithm=OtpAlgorithm.SHA1, digits=6, period=30
        )

    def test_new_params_follow_the_tenant_settings(self) -> None:
        settings = TenantSettings(
            app_code_algorithm="SHA512", app_code_digits=8, app_code_period=60
        )
        assert AppCodeFactor().new_params(settings) == OtpParams(
            type=OtpType.TOTP, algorithm=OtpAlgorithm.SHA512, digits=8, period=60
        )

    @pytest.mark.parametrize(("window", "offset", "accepted"), [(1, 1, True), (1, 2, False)])
    def test_match_uses_the_tenant_window(self, window: int, offset: int, accepted: bool) -> None:
        params = OtpParams()
        step = otp.time_step(NOW, 30) + offset
        code = otp.hotp(SEED_20, params, step)
        match = AppCodeFactor().match(
            app_method(params), SEED_20, code, NOW, TenantSettings(totp_window=window)
        )
        assert (match.step if match else None) == (step if accepted else None)

    def test_match_follows_the_methods_drift(self) -> None:
        params = OtpParams()
        step = otp.time_step(NOW, 30) + 4
        code = otp.hotp(SEED_20, params, step)
        settings = TenantSettings(totp_window=0)
        assert AppCodeFactor().match(app_method(params), SEED_20, code, NOW, settings) is None
        match = AppCodeFactor().match(app_method(params, drift=4), SEED_20, code, NOW, settings)
        assert match is not None
        assert (match.step, match.counter) == (step, None)

    def test_a_wrong_code_does_not_match(self) -> None:
        assert (
            AppCodeFactor().match(app_method(OtpParams()), SEED_20, "12345", NOW, TenantSettings())
            is None
        )


# -- QR codes ------------------------------------------------------------------------------

URI = provisioning_uri(
    bytes(range(32)),
    OtpParams(algorithm=OtpAlgorithm.SHA256, digits=8, period=60),
    "Acme Corp",
    "alice smith@example.com",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_bytes(data_uri: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert data_uri.startswith(prefix)
    return base64.b64decode(data_uri[len(prefix) :], validate=True)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def svg_dark_modules(svg: str) -> tuple[int, set[tuple[int, int]]]:
    """Read segno's SVG path back into (size in modules with border, dark modules)."""
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    (path,) = root.iter("{http://www.w3.org/2000/svg}path")
    transform = re.fullmatch(r"scale\((\d+)\)", path.attrib["transform"])
    assert transform is not None
    scale = int(transform.group(1))
    size = int(root.attrib["width"]) // scale
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for op, a, b in re.findall(r"([MmHh])(-?[\d.]+)(?: (-?[\d.]+))?", path.attrib["d"]):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            end = float(a) if op == "H" else x + float(a)
            dark.update((col, int(y)) for col in range(int(x), int(end)))
            x = end
    return size, dark


def write_png(path: Path, size: int, dark: set[tuple[int, int]], scale: int = 4) -> None:
    """A minimal 8-bit greyscale PNG, written by hand so the SVG is checked independently."""
    rows = b"".join(
        b"\x00"
        + bytes(0 if (col // scale, row // scale) in dark else 255 for col in range(size * scale))
        for row in range(size * scale)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", size * scale, size * scale, 8, 0, 0, 0, 0)
    path.write_bytes(
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def zbarimg() -> str:
    path = shutil.which("zbarimg")
    if path is None:
        missing("zbarimg (Debian package zbar-tools)")
    assert path is not None
    return path


def scan(zbarimg: str, image: Path) -> str:
    done = subprocess.run(
        [zbarimg, "--raw", "--quiet", "-Sdisable", "-Sqrcode.enable", str(image)],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.removesuffix("\n")


class TestQrCode:
    def test_png_data_uri_holds_a_png(self) -> None:
        png = png_bytes(qr.png_data_uri(URI))
        width, height = png_size(png)
        assert width == height
        assert width % 5 == 0  # five pixels a module by default

    def test_the_png_scale_sets_pixels_per_module(self) -> None:
        small = png_size(png_bytes(qr.png_data_uri(URI, scale=2)))[0]
        large = png_size(png_bytes(qr.png_data_uri(URI, scale=6)))[0]
        assert small // 2 == large // 6  # the same number of modules, border included

    def test_svg_is_an_svg_document_the_size_of_the_png(self) -> None:
        size, dark = svg_dark_modules(qr.svg(URI))
        assert png_size(png_bytes(qr.png_data_uri(URI)))[0] == size * 5
        assert dark
        # A quiet zone of four modules surrounds the symbol.
        assert all(4 <= col < size - 4 and 4 <= row < size - 4 for col, row in dark)

    def test_the_png_scans_back_to_the_uri(self, zbarimg: str, tmp_path: Path) -> None:
        image = tmp_path / "enroll.png"
        image.write_bytes(png_bytes(qr.png_data_uri(URI)))
        assert scan(zbarimg, image) == URI

    def test_the_svg_scans_back_to_the_uri(self, zbarimg: str, tmp_path: Path) -> None:
        size, dark = svg_dark_modules(qr.svg(URI))
        image = tmp_path / "from-svg.png"
        write_png(image, size, dark)
        assert scan(zbarimg, image) == URI
