"""Just enough of the ISO base media file format (ISO/IEC 14496-12) to tell
an MP4 from other bytes and read its duration: the top-level boxes, `ftyp`
first, and the movie header (`moov`/`mvhd`) with its timescale and
duration. No media is decoded."""

from __future__ import annotations

from collections.abc import Iterator


class NotMp4(ValueError):
    pass


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, box end) of each box between start and end."""
    at = start
    while at < end:
        if end - at < 8:
            raise NotMp4("a truncated box header")
        size, kind, header = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8], 8
        if size == 1:  # a 64-bit size follows the type
            if end - at < 16:
                raise NotMp4("a truncated box header")
            size, header = int.from_bytes(data[at + 8 : at + 16], "big"), 16
        elif size == 0:  # the box runs to the end of the file
            size = end - at
        if size < header or at + size > end:
            raise NotMp4(f"box {kind!r} of size {size} does not fit")
        yield kind, at + header, at + size
        at += size


def duration_s(data: bytes) -> float:
    """The movie's duration in seconds; NotMp4 if `data` is not an MP4."""
    boxes = _boxes(data, 0, len(data))
    first = next(boxes, None)
    if first is None or first[0] != b"ftyp":
        raise NotMp4("no ftyp box first")
    for kind, body, end in boxes:
        if kind != b"moov":
            continue
        for inner, ibody, iend in _boxes(data, body, end):
            if inner == b"mvhd":
                return _mvhd_duration(data[ibody:iend])
        raise NotMp4("moov has no mvhd")
    raise NotMp4("no moov box")


def _mvhd_duration(body: bytes) -> float:
    version = body[0] if body else -1
    if version == 0 and len(body) >= 20:
        scale, length = int.from_bytes(body[12:16], "big"), int.from_bytes(body[16:20], "big")
    elif version == 1 and len(body) >= 32:
        scale, length = int.from_bytes(body[20:24], "big"), int.from_bytes(body[24:32], "big")
    else:
        raise NotMp4("an unreadable mvhd")
    if scale == 0:
        raise NotMp4("mvhd timescale 0")
    return length / scale
