"""Serve one Cloud Function locally: functions-framework's app in one process.

`functions-framework` on Linux runs gunicorn, whose arbiter quietly respawns a
worker that died. Crash tests (MEDIA_CRASH_AFTER, see shared/pipeline/checks.py)
need the opposite: `os._exit` in a handler must take the whole "instance" down,
as a crashed Cloud Run instance would, so that Pub/Sub redelivery (after
`LocalStack.restart_function`) is what finishes the work. So the local stack
builds the very same app with `functions_framework.create_app` (same event
conversion, same routing) and serves it from a single threaded process.

    python -m infra.local.function_runner --target NAME --source PATH \
        --signature-type http|cloudevent --host 127.0.0.1 --port P
"""

from __future__ import annotations

import argparse
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="function_runner")
    parser.add_argument("--target", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--signature-type", default="http", choices=["http", "cloudevent", "event"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    from functions_framework import create_app
    from werkzeug.serving import make_server

    from infra.iam.enforce import install_from_env
    from infra.local.access_log import JsonRequestHandler, write

    # Before the function's module loads: every client it builds is checked
    # against the grants terraform/ gives its service account (MEDIA_LOCAL_IDENTITY).
    policy = install_from_env()
    app = create_app(args.target, args.source, args.signature_type)
    # One thread per connection, no pool: 50 simultaneous pushes all run at once,
    # like 50 concurrent requests on a scaled-out function.
    # Access lines are JSON like the function's own (see access_log.py).
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=JsonRequestHandler
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    write(
        "INFO",
        f"serving {args.target} ({args.signature_type}) on http://{args.host}:{args.port}",
        event="server_start",
        function=args.target,
        iam_identity=policy.identity if policy else None,
    )
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
