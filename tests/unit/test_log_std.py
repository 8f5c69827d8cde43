"""The standard logging module's records become the same JSON lines, with
the ids bound to the request (shared/core/log.py capture_std_logging)."""

from __future__ import annotations

import json
import logging

import pytest

from shared.core import log


def test_a_library_warning_is_a_json_line_with_the_requests_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    # Start from a process where no entry point has installed it yet.
    root.handlers[:] = [h for h in before if type(h).__name__ != "_JsonLines"]
    try:
        log.capture_std_logging()
        log.capture_std_logging()  # once per process, however often it is called
        assert sum(type(h).__name__ == "_JsonLines" for h in root.handlers) == 1
        log.clear()
        log.bind(request_id="req-1", asset_id="a1")
        logging.getLogger("tests.a_library").warning("retrying %s", "commit")
        logging.getLogger("tests.a_library").info("below the level: dropped")
        seen = capsys.readouterr()  # stdout, or stderr where a CLI test sent lines
        lines = [json.loads(x) for x in (seen.out + seen.err).splitlines() if x.strip()]
        assert lines == [
            {
                "severity": "WARNING",
                "message": "retrying commit",
                "event": "library",
                "timestamp": lines[0]["timestamp"],
                "request_id": "req-1",
                "asset_id": "a1",
                "logger": "tests.a_library",
            }
        ]
    finally:
        root.handlers[:] = before
        log.clear()
