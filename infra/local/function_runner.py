"""Serve one Cloud Function locally under the server the cloud runs it with.

In the cloud, Cloud Functions (2nd gen) runs Functions Framework under
gunicorn's gthread worker: one worker process with `THREADS` threads
(functions_framework/_http/gunicorn.py; unset, 4 per CPU). A request holds a
thread until it ends, so a function whose requests can all be held (media_api's
event streams) stalls every other request on that instance. The local stack
passes each function the THREADS that Terraform sets (sizing.py) and serves it
here with Functions Framework's own GunicornApplication, so a test sees what
the cloud would.

One difference, on purpose: gunicorn's arbiter quietly respawns a worker that
died. Crash tests (MEDIA_CRASH_AFTER, see shared/pipeline/checks.py) need the
opposite: `os._exit` in a handler must take the whole "instance" down, as a
crashed Cloud Run instance is gone, so that the stack's supervisor replaces it
and Pub/Sub's redelivery is what finishes the work. So a worker that exits
while the server is running ends the arbiter too (`child_exit` below).

Access and server lines are JSON like the function's own (access_log.py).

    python -m infra.local.function_runner --target NAME --source PATH \
        --signature-type http|cloudevent --host 127.0.0.1 --port P
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import sys
from datetime import timedelta
from typing import Any

from gunicorn.errors import HaltServer
from gunicorn.glogging import Logger

from infra.local.access_log import http_request, write
from shared.core import log

# The exit status of an instance whose worker died (the worker's own status is
# the arbiter's to reap; the supervisor only needs to see the process gone).
CRASHED = 70
# SIGTERM (a stop, a restart) waits this long for open requests, then kills
# them: event streams last minutes, a test's restart should not.
GRACEFUL_S = 2


class _JsonLines(logging.Handler):
    """gunicorn's own messages (worker died, cannot bind...) as JSON lines."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        severity = "ERROR" if record.levelno >= logging.ERROR else record.levelname
        write(severity, message, event="http_server")


class JsonLogger(Logger):
    """gunicorn's logger, writing the access lines Cloud Run writes."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in list(self.error_log.handlers):
            self.error_log.removeHandler(handler)
        self.error_log.addHandler(_JsonLines())

    def access(self, resp: Any, req: Any, environ: dict, request_time: timedelta) -> None:
        from werkzeug.datastructures import EnvironHeaders

        head = str(getattr(resp, "status", "") or "").split(None, 1)
        status = int(head[0]) if head and head[0].isdigit() else 0
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
        severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        write(
            severity,
            f"{method} {path} {status}",
            **http_request(
                method,
                path,
                status,
                getattr(resp, "sent", None),
                request_time.total_seconds(),
                environ.get("REMOTE_ADDR", "-"),
                EnvironHeaders(environ),
            ),
        )


def fresh_ids(wsgi_app: Any) -> Any:
    """A WSGI wrapper that unbinds the log ids before each request: a gthread
    worker's thread keeps what the last request bound, and the access line
    (logged on the same thread once the response is sent) must carry only the
    ids of the request it describes."""

    def serve(environ: dict, start_response: Any) -> Any:
        log.clear()
        return wsgi_app(environ, start_response)

    return serve


def child_exit(arbiter: Any, worker: Any) -> None:
    """A worker ended. While the server runs (it still has its listening
    sockets; `stop` drops them first) that is a crash: end the arbiter."""
    if arbiter.LISTENERS:
        write(
            "ERROR",
            f"worker {worker.pid} died: the instance goes down with it",
            event="instance_crashed",
        )
        raise HaltServer("worker died", CRASHED)


def post_fork(arbiter: Any, worker: Any) -> None:
    """In the worker: die with the arbiter. A kill -9 of the instance's process
    (tests, bench.burst) must end all of it at once, in-flight requests too,
    not leave an orphaned worker finishing them."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1  # <linux/prctl.h>
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != arbiter.pid:  # the arbiter died before the line above
        os._exit(CRASHED)


def port_free(host: str, port: int) -> bool:
    """Whether gunicorn can bind the port (it would retry for five seconds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="function_runner")
    parser.add_argument("--target", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--signature-type", default="http", choices=["http", "cloudevent", "event"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    from functions_framework import create_app
    from functions_framework._http.gunicorn import GunicornApplication

    from infra.iam.enforce import install_from_env

    # Before the function's module loads: every client it builds is checked
    # against the grants terraform/ gives its service account
    # (MEDIA_LOCAL_IDENTITY). The app is built before the port is bound: a
    # connection means ready (readiness.py), as the module has loaded.
    policy = install_from_env()
    app = create_app(args.target, args.source, args.signature_type)
    app.wsgi_app = fresh_ids(app.wsgi_app)  # type: ignore[method-assign]
    if not port_free(args.host, args.port):
        write("ERROR", f"port {args.port}: address already in use", event="server_start")
        return 1
    server = GunicornApplication(
        app,
        args.host,
        args.port,
        False,
        logger_class=JsonLogger,
        accesslog="-",
        child_exit=child_exit,
        post_fork=post_fork,
        graceful_timeout=GRACEFUL_S,
    )
    write(
        "INFO",
        f"serving {args.target} ({args.signature_type}) on http://{args.host}:{args.port}",
        event="server_start",
        function=args.target,
        iam_identity=policy.identity if policy else None,
        threads=server.cfg.threads,
        worker=server.cfg.worker_class_str,
    )
    server.run()  # returns only by SystemExit: the arbiter's own exit status
    return 0


if __name__ == "__main__":
    sys.exit(main())
