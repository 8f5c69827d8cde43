"""Log lines as Cloud Logging's structured logging reads them."""

import json
import re
from datetime import UTC, datetime

from shared.core import log

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def one_line(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_timestamp_is_rfc3339_utc_not_a_float(capsys):
    before = datetime.now(UTC)
    log.clear()
    log.info("x", "hello")
    line = one_line(capsys)
    assert "time" not in line
    assert isinstance(line["timestamp"], str) and RFC3339.match(line["timestamp"])
    stamp = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
    assert abs((stamp - before).total_seconds()) < 60


def test_trace_and_span_use_cloud_loggings_field_names(capsys):
    log.clear()
    trace, span = log.trace_from_headers(
        {"traceparent": "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"}, "p1"
    )
    log.bind(trace=trace, span=span, request_id="req-1")
    log.info("x", "traced")
    line = one_line(capsys)
    assert (
        line["logging.googleapis.com/trace"]
        == "projects/p1/traces/0af7651916cd43dd8448eb211c80319c"
    )
    assert line["logging.googleapis.com/spanId"] == "b7ad6b7169203331"
    assert "trace" not in line and "span" not in line and line["request_id"] == "req-1"
    log.clear()


def test_cloud_trace_context_header_and_garbage():
    trace, span = log.trace_from_headers(
        {"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"}, "p"
    )
    assert trace == "projects/p/traces/105445aa7843bc8bf206b12000100000"
    assert span == "0000000000000001"
    assert log.trace_from_headers({"traceparent": "junk"}, "p") == (None, None)
    assert log.trace_from_headers({}, "p") == (None, None)


def test_to_stderr_moves_lines_off_stdout(capsys):
    log.to_stderr()
    try:
        log.warning("x", "aside")
    finally:
        log.to_stderr(False)
    seen = capsys.readouterr()
    assert seen.out == ""
    assert json.loads(seen.err)["severity"] == "WARNING"
    log.info("y", "back")  # and back on stdout afterwards
    assert json.loads(capsys.readouterr().out)["message"] == "back"


def test_the_cli_hands_stdout_back_to_the_logs(capsys, monkeypatch):
    # A CLI run inside a longer-lived process (a test run, a notebook) must not
    # leave the logs pointed at its stderr.
    from cutscenes.cli import main

    monkeypatch.setenv("CUTSCENES_NO_LOCAL", "1")  # no detached stack's env
    assert main(["prices", "--json"]) == 0
    capsys.readouterr()
    log.info("z", "after the cli")
    assert json.loads(capsys.readouterr().out)["message"] == "after the cli"


def test_lines_go_through_the_logging_module_with_the_cloud_formatter(capsys):
    import logging

    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    logging.getLogger("cutscenes").addHandler(keep)
    try:
        log.clear()
        log.bind(request_id="req-2")
        log.info("rendered", "a still", asset_id="a1")
    finally:
        logging.getLogger("cutscenes").removeHandler(keep)
    assert len(seen) == 1 and seen[0].levelno == logging.INFO
    line = json.loads(log.CloudLoggingFormatter().format(seen[0]))
    assert line == {**one_line(capsys), "timestamp": line["timestamp"]}
    assert (line["event"], line["request_id"], line["asset_id"]) == ("rendered", "req-2", "a1")


def test_a_librarys_record_takes_the_requests_ids_and_its_loggers_name(capsys):
    import logging

    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    log.capture_std_logging()
    try:
        log.clear()
        log.bind(request_id="req-3")
        logging.getLogger("urllib3.connectionpool").warning("retrying %s", "GET /x")
        line = one_line(capsys)
    finally:  # leave the test process's root logger as it was
        log.clear()
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
        root.setLevel(level)
    assert line["severity"] == "WARNING" and line["event"] == "library"
    assert line["logger"] == "urllib3.connectionpool" and line["message"] == "retrying GET /x"
    assert line["request_id"] == "req-3" and RFC3339.match(line["timestamp"])
