"""A pure-Python PNG fit: the pack's logo resized onto a fixed canvas (no Pillow needed).

Platforms ask for logos of a fixed size (Cortex XSOAR: 120x50). The pack's logo is an 8-bit
non-interlaced RGB or RGBA PNG; it is scaled by area averaging to fit the canvas height and
centred on a transparent canvas.
"""

from __future__ import annotations

import struct
import zlib

from ..errors import ConfigError

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {2: 3, 6: 4}  # PNG colour type -> channels (RGB, RGBA)

Pixels = list[list[tuple[int, int, int, int]]]


def _chunks(data: bytes):
    offset = len(_SIGNATURE)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        yield kind, data[offset + 8 : offset + 8 + length]
        offset += 12 + length


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode(data: bytes) -> Pixels:
    """RGBA rows of an 8-bit, non-interlaced RGB or RGBA PNG."""
    if not data.startswith(_SIGNATURE):
        raise ConfigError("The logo is not a PNG file.")
    header, compressed = b"", b""
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed += body
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ConfigError("The logo must be an 8-bit, non-interlaced RGB or RGBA PNG.")
    channels = _CHANNELS[colour]
    stride = width * channels
    raw = zlib.decompress(compressed)
    rows: Pixels = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                line[x] = (line[x] + _paeth(left, up, corner)) & 0xFF
        previous = line
        pixels = [tuple(line[i : i + channels]) for i in range(0, stride, channels)]
        rows.append([p if channels == 4 else (*p, 255) for p in pixels])  # type: ignore[misc]
    return rows


def encode(rows: Pixels) -> bytes:
    """An RGBA PNG (filter 0 on every row)."""
    height, width = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(v for pixel in row for v in pixel) for row in rows)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        _SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _scaled(rows: Pixels, width: int, height: int) -> Pixels:
    """Area-average downscale (alpha-weighted, so transparent edges do not darken)."""
    source_h, source_w = len(rows), len(rows[0])
    out: Pixels = []
    for y in range(height):
        y0 = y * source_h // height
        y1 = max((y + 1) * source_h // height, y0 + 1)
        line = []
        for x in range(width):
            x0 = x * source_w // width
            x1 = max((x + 1) * source_w // width, x0 + 1)
            total = [0, 0, 0, 0]
            for sy in range(y0, y1):
                for r, g, b, a in rows[sy][x0:x1]:
                    total[0] += r * a
                    total[1] += g * a
                    total[2] += b * a
                    total[3] += a
            count = (y1 - y0) * (x1 - x0)
            alpha = total[3]
            if alpha == 0:
                line.append((0, 0, 0, 0))
            else:
                line.append(
                    (total[0] // alpha, total[1] // alpha, total[2] // alpha, alpha // count)
                )
        out.append(line)
    return out


def fit(data: bytes, width: int, height: int) -> bytes:
    """``data`` (a PNG) scaled to fit ``width`` x ``height``, centred, transparent around it."""
    rows = decode(data)
    source_h, source_w = len(rows), len(rows[0])
    scale = min(width / source_w, height / source_h)
    inner_w, inner_h = max(1, round(source_w * scale)), max(1, round(source_h * scale))
    inner = _scaled(rows, inner_w, inner_h)
    left, top = (width - inner_w) // 2, (height - inner_h) // 2
    canvas: Pixels = [[(0, 0, 0, 0)] * width for _ in range(height)]
    for y, line in enumerate(inner):
        canvas[top + y][left : left + inner_w] = line
    return encode(canvas)


def size(data: bytes) -> tuple[int, int]:
    """A PNG's (width, height) from its header."""
    if not data.startswith(_SIGNATURE):
        raise ConfigError("Not a PNG file.")
    width, height = struct.unpack(">II", data[16:24])
    return width, height
