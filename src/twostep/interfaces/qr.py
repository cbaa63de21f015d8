"""QR codes for enrollment URIs (segno): PNG, SVG, and text for a terminal."""

from __future__ import annotations

import base64
import io

import segno


def _qr(data: str) -> segno.QRCode:
    # Error correction M: what authenticator apps scan reliably off a screen.
    return segno.make(data, error="m", micro=False)


def png_data_uri(data: str, scale: int = 5) -> str:
    buffer = io.BytesIO()
    _qr(data).save(buffer, kind="png", scale=scale, border=4)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def svg(data: str, scale: int = 5) -> str:
    buffer = io.BytesIO()
    _qr(data).save(buffer, kind="svg", scale=scale, border=4, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def terminal(data: str) -> str:
    """Two modules per character cell (upper and lower half blocks), dark on light."""
    matrix = [list(row) for row in _qr(data).matrix]
    border = 2
    width = len(matrix[0]) + 2 * border
    rows = [[0] * width for _ in range(border)]
    rows += [[0] * border + [int(v) for v in row] + [0] * border for row in matrix]
    rows += [[0] * width for _ in range(border + 1)]
    glyphs = {(0, 0): "\u2588", (1, 0): "\u2584", (0, 1): "\u2580", (1, 1): " "}
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=False):
        lines.append("".join(glyphs[(t, b)] for t, b in zip(top, bottom, strict=True)))
    return "\n".join(lines)
