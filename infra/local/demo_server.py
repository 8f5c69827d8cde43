"""Static server for web/ plus the local stack's settings at /config.json.

The demo page cannot read environment variables, so it fetches /config.json
(the same values `cutscenes local up` prints) to find the emulators and
media_api. The file is read on every request, so a restarted part's new values
show without restarting this server.

    python -m infra.local.demo_server --dir web --port P --config stack-env.json
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_TRIGGER_BYTES = 64 * 1024


class DemoHandler(SimpleHTTPRequestHandler):
    config_path: Path

    def end_headers(self) -> None:
        # Local development: never serve a stale page or config.
        self.send_header("Cache-Control", "no-store")
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def parse_request(self) -> bool:
        self._started = time.monotonic()  # for the access line's latency
        return super().parse_request()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        from infra.local.access_log import http_request, write

        status = int(code) if isinstance(code, int) or str(code).isdigit() else 0
        latency = time.monotonic() - getattr(self, "_started", time.monotonic())
        write(
            "WARNING" if status >= 400 else "INFO",
            f"{self.command} {self.path} {status}",
            **http_request(
                self.command or "",
                self.path,
                status,
                size,
                latency,
                self.address_string(),
                self.headers,
            ),
        )

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        from infra.local.access_log import write

        write("INFO", format % args, event="http_server")

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        if path == "/config.json":
            self._send_config()
            return
        if path == "/favicon.ico":  # browsers ask for it whatever the page says
            path = self.path = "/demo/favicon.svg"
        if path in ("/", "/demo", "/demo/"):
            self.send_response(302)
            self.send_header("Location", "/demo/index.html")
            self.end_headers()
            return
        super().do_GET()

    def do_POST(self) -> None:  # noqa: N802
        """The demo page's backend (see demo_trigger.py): POST /api/setup makes
        the demo campaign, POST /api/trigger publishes a request, POST
        /api/session tells the session's last turn number, POST
        /api/player-token mints a member's sign-in token."""
        from infra.local import demo_trigger

        routes = {
            "/api/trigger": demo_trigger.handle_trigger,
            "/api/setup": demo_trigger.handle_setup,
            "/api/session": demo_trigger.handle_session,
            "/api/player-token": demo_trigger.handle_player_token,
        }
        handler = routes.get(self.path.split("?", 1)[0])
        if handler is None:
            self._send_json(404, {"error": {"code": 404, "message": "not found"}})
            return
        # JSON only: a cross-site form post (no preflight) cannot reach this.
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            self._send_json(415, {"error": {"code": 415, "message": "send application/json"}})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_TRIGGER_BYTES:
            self._send_json(400, {"error": {"code": 400, "message": "bad body size"}})
            return
        try:
            body = json.loads(self.rfile.read(length))
            env = json.loads(self.config_path.read_text())
        except (ValueError, OSError) as exc:
            self._send_json(400, {"error": {"code": 400, "message": f"bad request: {exc}"}})
            return
        try:
            status, answer = handler(body, env=env)
        except Exception as exc:  # noqa: BLE001 - the page shows the reason
            message = f"{type(exc).__name__}: {exc}"
            status, answer = 500, {"error": {"code": 500, "message": message}}
        self._send_json(status, answer)

    def _send_json(self, status: int, answer: dict) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_config(self) -> None:
        try:
            body = self.config_path.read_bytes()
        except OSError:
            self.send_error(503, "stack config not written yet")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo_server")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    handler = functools.partial(DemoHandler, directory=str(args.dir))
    DemoHandler.config_path = args.config
    server = ThreadingHTTPServer((args.host, args.port), handler)
    print(f"serving {args.dir} on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
