"""JSON responses and the API's one error type."""

from __future__ import annotations

import json
from typing import Any

from flask import Response


class ApiError(Exception):
    """An answer with an HTTP error code: `{"error": {"code", "message"}}`."""

    def __init__(self, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # Sent with the error, e.g. Retry-After on a 503.
        self.headers = dict(headers or {})


def json_response(body: Any, status: int = 200) -> Response:
    response = Response(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        mimetype="application/json",
    )
    # Bodies carry signed URLs and private media: no shared caches, no reuse.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def error_response(code: int, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message}}, status=code)
