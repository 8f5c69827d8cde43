"""The local Vertex AI media emulator: an HTTP server for the real google-genai client.

Routes (both /v1/ and /v1beta1/ prefixes):
  POST /{v}/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:generateContent
  POST /{v}/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:predictLongRunning
  POST /{v}/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:fetchPredictOperation
  GET  /{v}/{operation name}                         (the same answer as fetchPredictOperation)
  GET  /locations/{l}/{v}/publishers/{pub}/models/{m}
                                 a model lookup (models.get): the publisher model,
                                 or 404 where the catalog does not serve it. The
                                 SDK sends GET /{v}/publishers/google/models/{m},
                                 the location only in the host
                                 ({l}-aiplatform.googleapis.com, or
                                 aiplatform.googleapis.com for global), so a
                                 caller points base_url at /locations/{l}/ to
                                 stand for that host
Control routes:
  GET    /_emulator/calls        {"generateContent": n, "predictLongRunning": n,
                                  "fetchPredictOperation": n, "rejected": {method: n},
                                  "jobs": {storageUri: n},
                                  "by_model": {model: {method: n, "rejected": n}}}
                                 (rejected: answered 429, by a quota or a fault)
  POST   /_emulator/quota        {"method", "per_minute", "window_s"?, "model"?, "location"?}:
                                 at most per_minute served in any rolling 60 s
                                 (window_s: a shorter "minute" for time-compressed
                                 benchmarks; 0: no limit). With "model", the quota is
                                 that base model's alone, in "location" or in each
                                 region separately, as Vertex counts them; "method"
                                 then defaults to the one making its media
                                 (predictLongRunning, generateContent). Without, per method.
  GET    /_emulator/quota        {"quota": {method: n}, "by_model": [{"model", "location",
                                  "method", "per_minute", "window_s"}]}
  GET    /_emulator/requests     {"requests": [...]}: the last model requests, oldest
                                 first: method, model, prompt, file_uris (reference
                                 images), inline_images (recorder.py)
  POST   /_emulator/latency      {"image_s": float, "video_s": float} (either optional)
  GET    /_emulator/latency
  POST   /_emulator/faults       {"method", "kind", "status", "count"} (see faults.py)
  GET    /_emulator/faults       pending faults
  DELETE /_emulator/faults       clear them (and release hanging calls)
  POST   /_emulator/options      {"thought_parts": bool}
  POST   /_emulator/reset        faults and quotas cleared, latency/options to the
                                 CLI defaults, counters to zero, recorded requests cleared

Strictness (models.py says which real behaviour each rule copies and where
it is documented): unknown models and models outside their locations answer
404 NOT_FOUND; unsupported Veo durations, resolutions and aspect ratios 400
INVALID_ARGUMENT; quotas (per method, or per base model and region)
429 RESOURCE_EXHAUSTED (quota.py).

This module is the HTTP plumbing and the routing; the answers come from
images.py (generateContent), videos.py (Veo operations) and control.py
(/_emulator/), over the shared state in emulator.py.
"""

from __future__ import annotations

import json
import re
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import images, models, videos
from .control import control
from .emulator import Emulator
from .faults import METHODS, error_body
from .payload import ApiError, json_body, log, pick

_MODEL_RE = re.compile(
    r"^/(v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/publishers/([^/]+)/models/([^/:]+)"
    r":([A-Za-z]+)$"
)
_MODEL_GET_RE = re.compile(r"^/locations/([^/]+)/(v1|v1beta1)/publishers/([^/]+)/models/([^/:]+)$")
_OPERATION_RE = re.compile(r"^/(v1|v1beta1)/(projects/[^:]+/operations/[^/:]+)$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 600  # idle keep-alive connections are dropped after this many seconds
    server_version = "MediaEmulator/1.0"
    emulator: Emulator  # set on the subclass made by make_server

    # Silence the default access log; we write one line per request ourselves.
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    # ---- plumbing ------------------------------------------------------------

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, "invalid Content-Length") from None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, code: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _dispatch(self, verb: str) -> None:
        start = time.monotonic()
        code = 500
        path = self.path.split("?", 1)[0]
        try:
            raw = self._read_body()
            code, payload = self._route(verb, path, raw)
        except ApiError as exc:
            code, payload = exc.code, error_body(exc.code, exc.message)
            if code == 400 and "Content-Length" in (exc.message or ""):
                self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - never crash the server
            log(f"internal error on {verb} {path}: {exc}\n{traceback.format_exc()}")
            code, payload = 500, error_body(500, f"emulator internal error: {exc}")
        try:
            self._send(code, payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        log(f'{self.client_address[0]} "{verb} {self.path}" {code} {time.monotonic() - start:.3f}s')

    def _route(self, verb: str, path: str, raw: bytes) -> tuple[int, dict]:
        emu = self.emulator
        if path.startswith("/_emulator/"):
            return control(emu, verb, path[len("/_emulator/") :], raw)
        m = _MODEL_RE.match(path)
        if m:
            _, project, location, publisher, model, method = m.groups()
            if method not in METHODS:
                raise ApiError(404, f"Method {method} is not served by the media emulator.")
            if verb != "POST":
                raise ApiError(405, f"{method} takes POST")
            emu.count(method, model)
            body = json_body(raw)
            try:
                spec = models.check_served(project, location, model, method)
            except models.NotServed as exc:
                raise ApiError(404, str(exc)) from None
            if not emu.quotas.admit(method, model, location):
                emu.count_rejected(method, model)
                raise ApiError(
                    429,
                    f"Quota exceeded for aiplatform.googleapis.com/{method} per minute"
                    f" for {model} (emulated quota).",
                )
            if method != "fetchPredictOperation":
                emu.recorded.record(method, model, body)
            fault = emu.faults.take(method)
            if fault:
                log(f"fault {fault.kind} ({fault.status}) on {method}")
                if fault.kind == "http" and fault.status == 429:
                    emu.count_rejected(method, model)
            if method == "generateContent":
                return 200, images.generate_content(emu, model, body, fault)
            if method == "predictLongRunning":
                return 200, videos.predict_long_running(
                    emu, project, location, publisher, model, body, fault, spec
                )
            return 200, videos.fetch_operation(
                emu, pick(body, "operationName", "operation_name"), fault
            )
        m = _MODEL_GET_RE.match(path)
        if m and verb == "GET":
            # A lookup, not a generation: counted nowhere, never refused by a quota.
            location, _, _publisher, model = m.groups()
            try:
                return 200, models.lookup(location, model)
            except models.NotServed as exc:
                raise ApiError(404, str(exc)) from None
        m = _OPERATION_RE.match(path)
        if m and verb == "GET":
            return 200, videos.fetch_operation(emu, m.group(2), None)
        raise ApiError(404, f"No route for {verb} {path}.")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def make_server(
    host: str = "127.0.0.1",
    port: int = 0,
    storage_url: str | None = None,
    image_latency: float = 0.0,
    video_latency: float = 0.0,
    thought_parts: bool = False,
) -> tuple[ThreadingHTTPServer, Emulator]:
    emulator = Emulator(storage_url, image_latency, video_latency, thought_parts)
    handler = type("BoundHandler", (Handler,), {"emulator": emulator})
    return _Server((host, port), handler), emulator
