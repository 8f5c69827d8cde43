"""Reading request payloads, and the error every route answers with: helpers
the image, video and control routes share."""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import sys
from typing import Any


class ApiError(Exception):
    """Answer `code` with Google's error JSON."""

    def __init__(self, code: int, message: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message


def log(msg: str) -> None:
    sys.stderr.write(f"media-emulator {msg}\n")
    sys.stderr.flush()


def now_rfc3339() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def b64decode(data: object) -> bytes:
    if not isinstance(data, str):
        raise ApiError(400, "inline data must be a base64 string")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            raise ApiError(400, "inline data is not valid base64") from None


def pick(d: dict, *names: str) -> Any:
    """First present key among camelCase / snake_case spellings."""
    for n in names:
        if n in d:
            return d[n]
    return None


def number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ApiError(400, f"{name} must be a non-negative number, got {value!r}")
    return float(value)


def json_body(raw: bytes) -> dict:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"Invalid JSON payload received. {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON payload received. Expected an object.")
    return body
