"""The functions read a still's size from its PNG header, with no imaging library."""

from __future__ import annotations

import struct
import zlib

import pytest

from shared.core.errors import PermanentError
from shared.store.media_models import png_size, png_still


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int) -> bytes:
    """A real PNG, built by hand: 8-bit greyscale, every row black."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\0" + b"\0" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64


@pytest.mark.parametrize(("width", "height"), [(1024, 576), (576, 1024), (1, 1), (4096, 4096)])
def test_size_comes_from_the_header(width: int, height: int) -> None:
    data = png(width, height) if width * height < 2_000_000 else _header_only(width, height)
    assert png_size(data) == (width, height)
    still = png_still(data, "image/png")
    assert (still.width, still.height, still.mime_type, still.data) == (
        width,
        height,
        "image/png",
        data,
    )


def _header_only(width: int, height: int) -> bytes:
    """Signature, IHDR and IEND: enough for the reader, cheap for large sizes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IEND", b"")


def test_the_header_agrees_with_pillow() -> None:
    """The reader against a PNG Pillow wrote (Pillow is a test dependency only)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (321, 123), (10, 20, 30)).save(out, format="PNG")
    assert png_size(out.getvalue()) == (321, 123)


@pytest.mark.parametrize("cut", [0, 7, 8, 16, 20, 32])
def test_a_truncated_header_is_refused(cut: int) -> None:
    with pytest.raises(PermanentError, match="truncated PNG|not a PNG") as exc:
        png_size(png(64, 32)[:cut])
    assert exc.value.reason == "image_failed"


def test_a_png_cut_before_its_end_is_refused() -> None:
    data = png(64, 32)
    with pytest.raises(PermanentError, match="no IEND"):
        png_size(data[:-5])


def test_jpeg_is_refused_with_a_clear_permanent_error() -> None:
    with pytest.raises(PermanentError, match="answered a JPEG, not a PNG") as exc:
        png_size(JPEG)
    assert exc.value.reason == "image_failed"
    with pytest.raises(PermanentError, match="answered image/jpeg, not the image/png"):
        png_still(png(8, 8), "image/jpeg")


def test_a_zero_sized_png_is_refused() -> None:
    with pytest.raises(PermanentError, match="0x5"):
        png_size(_header_only(0, 5))
