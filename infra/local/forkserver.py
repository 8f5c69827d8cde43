"""The local stack's fork server: one process that has imported the libraries
every function uses, forking each function start from itself instead of
starting a fresh interpreter that imports them again.

Why: a function process imports Functions Framework, gunicorn and the Google
clients (Firestore, Storage, Pub/Sub, google-genai) on its first request, about
1.1 CPU-seconds each time. The suite starts functions about 165 times (stacks,
restarts with a test's settings, replacements after a crash), on a 2-core
machine where the parallel suite is CPU-bound (docs/decisions/0030).

What a forked start keeps from a fresh one (procs.spawn):
- its own session and process group (stopping it signals its whole group);
- exactly the env it is given (os.environ replaced whole, so C code such as
  gRPC's reads it too), its cwd, stdin from /dev/null, stdout and stderr
  appended to its log;
- `infra.local.function_runner` run as the program, with the same arguments;
  nothing of ours is imported before the fork (only third-party modules,
  none of which reads our settings at import), so every setting is read
  from the child's own env, as in a fresh process;
- `random` reseeded in the child (the module does that itself at fork).
What differs: its command line reads as the fork server's. Its identity is
its PID and start time, recorded after the fork as for any part (procs.py),
and its exit status is collected by the kernel (SIGCHLD ignored here), so
the stack sees a crashed function as gone (exit code unknown, -1).

    python -m infra.local.forkserver NAME

NAME is an abstract Unix socket's name (Linux; no file to clean up), given
without its leading NUL (`address`). A
request is one JSON line {"argv", "env", "cwd", "log"}; the answer is one
JSON line {"pid"}. The server imports after binding, so a start asked for
meanwhile waits in the listen queue rather than failing.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import sys
import traceback
from typing import Any

# What a function process imports anyway (its first request), heaviest first.
PRELOAD = (
    "google.genai",
    "google.cloud.firestore",
    "google.cloud.pubsub_v1",
    "google.cloud.storage",
    "functions_framework",
    "functions_framework._http.gunicorn",
    "gunicorn.workers.gthread",
    "pydantic_settings",
    "psutil",
)
RUNNER = "infra.local.function_runner"


def address(name: str) -> str:
    return "\0" + name


def serve(name: str) -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address(name))
    server.listen(64)
    for name in PRELOAD:
        importlib.import_module(name)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    while True:
        conn, _ = server.accept()
        with conn:
            try:
                request = json.loads(read_line(conn))
            except (OSError, ValueError):
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                server.close()
                conn.close()
                _become(request)  # never returns
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def read_line(conn: socket.socket) -> bytes:
    """One JSON line, both ways (without its newline only if the peer closed)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _become(request: dict[str, Any]) -> None:
    """In the child: what a fresh `python -m infra.local.function_runner`
    would be, then run it and exit with its status."""
    code: Any = 1
    try:
        os.setsid()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        args = list(request["argv"])
        sys.argv = [RUNNER, *args]
        runner = importlib.import_module(RUNNER)
        code = runner.main(args)
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # noqa: BLE001 - reported in the log, then exit 1
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - exiting anyway
                pass
        os._exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    serve(sys.argv[1])
