"""The local Vertex AI media emulator: an HTTP server for the real google-genai client.

Routes (both /v1/ and /v1beta1/ prefixes):
  POST /{v}/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:generateContent
  POST /{v}/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:predictLongRunning
  POST /{v}/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:fetchPredictOperation
  GET  /{v}/{operation name}                         (the same answer as fetchPredictOperation)
Control routes:
  GET    /_emulator/calls        {"generateContent": n, "predictLongRunning": n,
                                  "fetchPredictOperation": n, "rejected": {method: n}}
                                 (rejected: answered 429, by a quota or a fault)
  POST   /_emulator/quota        {"method", "per_minute", "window_s"?}: at most per_minute
                                 served in any rolling 60 s (window_s: a shorter
                                 "minute" for time-compressed benchmarks; 0: no limit)
  GET    /_emulator/quota        the limits set
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
INVALID_ARGUMENT; quotas 429 RESOURCE_EXHAUSTED (quota.py).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import random
import re
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import draw, models, storage, video
from .faults import METHODS, Fault, FaultBook, FaultSpecError, error_body, parse_fault
from .quota import QuotaBook
from .recorder import Recorder

VIDEO_RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
RAI_REASON = (
    "Veo could not generate videos because the input image violates Vertex AI's usage"
    " guidelines. If you think this was an error, send feedback. Support codes: 58061214"
    " (emulated)"
)
OP_ERROR_MESSAGE = "Internal error encountered during video generation (emulated op_error)."
IMAGE_TOKENS = {"1K": 1120, "2K": 1120, "4K": 2000}

_MODEL_RE = re.compile(
    r"^/(v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/publishers/([^/]+)/models/([^/:]+)"
    r":([A-Za-z]+)$"
)
_OPERATION_RE = re.compile(r"^/(v1|v1beta1)/(projects/[^:]+/operations/[^/:]+)$")


class ApiError(Exception):
    """Answer `code` with Google's error JSON."""

    def __init__(self, code: int, message: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message


def _log(msg: str) -> None:
    sys.stderr.write(f"media-emulator {msg}\n")
    sys.stderr.flush()


def _now_rfc3339() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _b64decode(data: object) -> bytes:
    if not isinstance(data, str):
        raise ApiError(400, "inline data must be a base64 string")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            raise ApiError(400, "inline data is not valid base64") from None


def _get(d: dict, *names: str) -> Any:
    """First present key among camelCase / snake_case spellings."""
    for n in names:
        if n in d:
            return d[n]
    return None


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ApiError(400, f"{name} must be a non-negative number, got {value!r}")
    return float(value)


@dataclass
class Operation:
    name: str
    op_id: str
    started: float
    delay_s: float
    result: dict | None = None  # {"response": {...}} or {"error": {...}}
    hang: bool = False
    created_wall: float = field(default_factory=time.time)


class Emulator:
    """All state, shared by the handler threads."""

    def __init__(
        self,
        storage_url: str | None = None,
        image_latency: float = 0.0,
        video_latency: float = 0.0,
        thought_parts: bool = False,
    ):
        self.storage_url = storage.normalize_url(storage_url)
        self._defaults = (float(image_latency), float(video_latency), bool(thought_parts))
        self.lock = threading.Lock()
        self.faults = FaultBook()
        self.ops: dict[str, Operation] = {}
        self.image_s, self.video_s, self.thought_parts = self._defaults
        self.calls = dict.fromkeys(METHODS, 0)
        self.rejected = dict.fromkeys(METHODS, 0)
        self.quotas = QuotaBook()
        self._blocked_n = 0
        self.recorded = Recorder()

    # ---- control -------------------------------------------------------------

    def reset(self) -> None:
        self.faults.clear()
        self.recorded.clear()
        self.quotas.clear()
        with self.lock:
            self.image_s, self.video_s, self.thought_parts = self._defaults
            self.calls = dict.fromkeys(METHODS, 0)
            self.rejected = dict.fromkeys(METHODS, 0)
            self._blocked_n = 0

    def count(self, method: str) -> None:
        with self.lock:
            self.calls[method] += 1

    def count_rejected(self, method: str) -> None:
        with self.lock:
            self.rejected[method] += 1

    def counters(self) -> dict:
        with self.lock:
            return {**self.calls, "rejected": dict(self.rejected)}

    def set_quota(self, body: object) -> dict:
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object")
        unknown = set(body) - {"method", "per_minute", "window_s"}
        if unknown:
            raise ApiError(
                400, f"unknown keys: {sorted(unknown)}; expected method, per_minute, window_s"
            )
        method, limit = body.get("method"), body.get("per_minute", 0)
        if method not in METHODS:
            raise ApiError(400, f"method must be one of {list(METHODS)}, got {method!r}")
        if limit is None:
            limit = 0
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ApiError(400, f"per_minute must be a non-negative integer, got {limit!r}")
        window = body.get("window_s", 60.0)
        number = isinstance(window, (int, float)) and not isinstance(window, bool)
        if not number or not 0 < window <= 3600:
            raise ApiError(400, f"window_s must be seconds in (0, 3600], got {window!r}")
        self.quotas.set(method, limit, float(window))
        return {"quota": self.quotas.limits()}

    def set_latency(self, body: object) -> dict:
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object")
        unknown = set(body) - {"image_s", "video_s"}
        if unknown:
            raise ApiError(400, f"unknown keys: {sorted(unknown)}; expected image_s, video_s")
        new = {k: _number(body[k], k) for k in ("image_s", "video_s") if k in body}
        with self.lock:
            self.image_s = new.get("image_s", self.image_s)
            self.video_s = new.get("video_s", self.video_s)
            return {"image_s": self.image_s, "video_s": self.video_s}

    def latency(self) -> dict:
        with self.lock:
            return {"image_s": self.image_s, "video_s": self.video_s}

    def set_options(self, body: object) -> dict:
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object")
        unknown = set(body) - {"thought_parts"}
        if unknown:
            raise ApiError(400, f"unknown keys: {sorted(unknown)}; expected thought_parts")
        if "thought_parts" in body:
            if not isinstance(body["thought_parts"], bool):
                raise ApiError(400, "thought_parts must be a boolean")
            with self.lock:
                self.thought_parts = body["thought_parts"]
        with self.lock:
            return {"thought_parts": self.thought_parts}

    # ---- generateContent -----------------------------------------------------

    def generate_content(self, model: str, body: dict, fault: Fault | None) -> dict:
        start = time.monotonic()
        if fault and fault.kind == "http":
            raise ApiError(fault.status, fault.message)
        if fault and fault.kind == "hang":
            self.faults.release.wait(fault.hang_s)
            raise ApiError(504, "Deadline exceeded (emulated hang).")

        contents = body.get("contents")
        if isinstance(contents, dict):
            contents = [contents]
        if not isinstance(contents, list) or not contents:
            raise ApiError(400, "contents must be a non-empty list")
        texts: list[str] = []
        refs = []
        n_image_inputs = 0
        for content in contents:
            if not isinstance(content, dict):
                raise ApiError(400, "each content must be an object")
            if content.get("role", "user") != "user":
                continue
            parts = content.get("parts") or []
            if not isinstance(parts, list):
                raise ApiError(400, "content.parts must be a list")
            for part in parts:
                if not isinstance(part, dict):
                    raise ApiError(400, "each part must be an object")
                if isinstance(part.get("text"), str) and not part.get("thought"):
                    texts.append(part["text"])
                inline = _get(part, "inlineData", "inline_data")
                if isinstance(inline, dict):
                    mime = _get(inline, "mimeType", "mime_type") or ""
                    data = _b64decode(inline.get("data", ""))
                    if mime.startswith("image/"):
                        n_image_inputs += 1
                        try:
                            refs.append(draw.decode_image(data))
                        except draw.DrawError as exc:
                            raise ApiError(400, str(exc)) from None
                file_data = _get(part, "fileData", "file_data")
                if isinstance(file_data, dict):
                    uri = _get(file_data, "fileUri", "file_uri")
                    if not isinstance(uri, str) or not uri:
                        raise ApiError(400, "fileData.fileUri is required")
                    n_image_inputs += 1
                    if uri.startswith("gs://") and self.storage_url:
                        try:
                            refs.append(draw.decode_image(storage.download(self.storage_url, uri)))
                        except (storage.StorageError, draw.DrawError, ValueError) as exc:
                            raise ApiError(400, f"cannot use fileData {uri}: {exc}") from None
        prompt = "\n".join(t for t in texts if t.strip()).strip()
        if not prompt and not refs:
            raise ApiError(400, "the request has no text and no image parts")

        gen = _get(body, "generationConfig", "generation_config")
        gen = {} if gen is None else gen
        if not isinstance(gen, dict):
            raise ApiError(400, "generationConfig must be an object")
        modalities = _get(gen, "responseModalities", "response_modalities") or ["TEXT"]
        want_image = any(str(m).upper() == "IMAGE" for m in modalities)
        img_cfg = _get(gen, "imageConfig", "image_config")
        img_cfg = {} if img_cfg is None else img_cfg
        if not isinstance(img_cfg, dict):
            raise ApiError(400, "imageConfig must be an object")
        aspect = _get(img_cfg, "aspectRatio", "aspect_ratio")
        size = _get(img_cfg, "imageSize", "image_size")
        try:
            width, height = draw.image_dimensions(aspect, size)
            out_mime, quality = draw.output_format(
                _get(img_cfg, "imageOutputOptions", "image_output_options")
            )
        except draw.DrawError as exc:
            raise ApiError(400, str(exc)) from None

        with self.lock:
            image_s, thought_parts = self.image_s, self.thought_parts
        prompt_tokens = max(1, len(prompt) // 4) + 258 * n_image_inputs
        usage: dict[str, Any] = {
            "promptTokenCount": prompt_tokens,
            "totalTokenCount": prompt_tokens,
            "trafficType": "ON_DEMAND",
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": max(1, len(prompt) // 4)}]
            + (
                [{"modality": "IMAGE", "tokenCount": 258 * n_image_inputs}]
                if n_image_inputs
                else []
            ),
        }
        envelope = {
            "modelVersion": model,
            "createTime": _now_rfc3339(),
            "responseId": uuid.uuid4().hex[:22],
        }

        if fault and fault.kind == "blocked":
            self._sleep_until(start + image_s)
            variant = fault.variant
            if variant is None:
                with self.lock:
                    self._blocked_n += 1
                    variant = "prompt" if self._blocked_n % 2 == 1 else "finish"
            if variant == "prompt":
                return {
                    "promptFeedback": {
                        "blockReason": "SAFETY",
                        "blockReasonMessage": "The prompt was blocked for safety reasons"
                        " (emulated).",
                    },
                    "usageMetadata": usage,
                    **envelope,
                }
            return {
                "candidates": [
                    {
                        "finishReason": "IMAGE_SAFETY",
                        "finishMessage": "Unable to show the generated image. The image was"
                        " filtered out because it violated Google's Generative AI Prohibited"
                        " Use policy (emulated).",
                        "index": 0,
                    }
                ],
                "usageMetadata": usage,
                **envelope,
            }

        if not want_image:
            text = f"(media emulator) {prompt[:200]}"
            self._sleep_until(start + image_s)
            usage["candidatesTokenCount"] = max(1, len(text) // 4)
            usage["totalTokenCount"] += usage["candidatesTokenCount"]
            return {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": text}]},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": usage,
                **envelope,
            }

        label = f"{model} {width}x{height} (media emulator)"
        still = draw.encode(
            draw.draw_image(prompt or "(reference images only)", width, height, refs, label),
            out_mime,
            quality,
        )
        out_parts: list[dict] = []
        final_part: dict[str, Any] = {
            "inlineData": {"mimeType": out_mime, "data": base64.b64encode(still).decode()}
        }
        if thought_parts:
            draft = draw.draw_png(
                "draft: " + (prompt or ""), max(1, width // 4), max(1, height // 4)
            )
            out_parts.append(
                {
                    "text": "**Composing the scene**\nPlanning layout and lighting"
                    " for the requested image.",
                    "thought": True,
                }
            )
            out_parts.append(
                {
                    "inlineData": {
                        "mimeType": "image/png",
                        "data": base64.b64encode(draft).decode(),
                    },
                    "thought": True,
                }
            )
            final_part["thoughtSignature"] = base64.b64encode(b"emulator-signature").decode()
            usage["thoughtsTokenCount"] = 160
        out_parts.append(final_part)
        out_tokens = IMAGE_TOKENS.get(size or "1K", 1120)
        usage["candidatesTokenCount"] = out_tokens
        usage["candidatesTokensDetails"] = [{"modality": "IMAGE", "tokenCount": out_tokens}]
        usage["totalTokenCount"] += out_tokens + usage.get("thoughtsTokenCount", 0)
        self._sleep_until(start + image_s)
        return {
            "candidates": [
                {
                    "content": {"role": "model", "parts": out_parts},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": usage,
            **envelope,
        }

    @staticmethod
    def _sleep_until(deadline: float) -> None:
        left = deadline - time.monotonic()
        if left > 0:
            time.sleep(left)

    # ---- predictLongRunning --------------------------------------------------

    def predict_long_running(
        self,
        project: str,
        location: str,
        publisher: str,
        model: str,
        body: dict,
        fault: Fault | None,
        spec: models.ModelSpec | None = None,
    ) -> dict:
        if fault and fault.kind == "http" and not fault.created:
            raise ApiError(fault.status, fault.message)  # refused: no operation exists
        instances = body.get("instances")
        if not isinstance(instances, list) or not instances or not isinstance(instances[0], dict):
            raise ApiError(400, "instances must be a non-empty list of objects")
        inst = instances[0]
        params = body.get("parameters")
        params = {} if params is None else params
        if not isinstance(params, dict):
            raise ApiError(400, "parameters must be an object")
        prompt = inst.get("prompt") or ""
        if not isinstance(prompt, str):
            raise ApiError(400, "instances[0].prompt must be a string")
        try:
            duration = video.check_duration(params.get("durationSeconds"))
            resolution = params.get("resolution") or "720p"
            if spec is not None and resolution not in spec.resolutions:
                raise video.VideoError(
                    f"resolution {resolution!r} is not supported by {model}; supported:"
                    f" {', '.join(spec.resolutions)}"
                )
            width, height = video.video_dimensions(params.get("aspectRatio"), resolution)
        except video.VideoError as exc:
            raise ApiError(400, str(exc)) from None
        # generateAudio true: Veo 3.x returns the clip with a sound track (same page,
        # generateAudio); the emulator adds an AAC tone so players see a real track.
        audio = params.get("generateAudio")
        if audio is not None and not isinstance(audio, bool):
            raise ApiError(400, f"generateAudio must be a boolean, got {audio!r}")
        samples = params.get("sampleCount", 1)
        if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= 4:
            raise ApiError(400, f"sampleCount must be an integer from 1 to 4, got {samples!r}")
        storage_uri = params.get("storageUri")
        if storage_uri is not None:
            if (
                not isinstance(storage_uri, str)
                or not storage_uri.startswith("gs://")
                or not storage_uri[5:].strip("/")
            ):
                raise ApiError(400, f"storageUri must be a gs:// uri, got {storage_uri!r}")

        image = inst.get("image")
        image_bytes: bytes | None = None
        if image is not None:
            if not isinstance(image, dict):
                raise ApiError(400, "instances[0].image must be an object")
            raw = _get(image, "bytesBase64Encoded", "bytes_base64_encoded")
            uri = _get(image, "gcsUri", "gcs_uri")
            if raw is not None:
                image_bytes = _b64decode(raw)
            elif isinstance(uri, str) and uri:
                if not self.storage_url:
                    raise ApiError(400, "image.gcsUri given but no storage emulator configured")
                try:
                    image_bytes = storage.download(self.storage_url, uri)
                except (storage.StorageError, ValueError) as exc:
                    raise ApiError(400, f"cannot read image {uri}: {exc}") from None
            else:
                raise ApiError(400, "instances[0].image needs bytesBase64Encoded or gcsUri")
            try:
                draw.decode_image(image_bytes)
            except draw.DrawError as exc:
                raise ApiError(400, str(exc)) from None
        elif not prompt.strip():
            raise ApiError(400, "instances[0] needs a prompt or an image")

        # Real operation ids are numeric, and Veo writes under
        # {storageUri}/{that id}/sample_N.mp4 (https://cloud.google.com/vertex-ai/
        # generative-ai/docs/model-reference/veo-video-generation, storageUri).
        op_id = str(random.randrange(10**18, 10**19))
        name = (
            f"projects/{project}/locations/{location}/publishers/{publisher}/models/{model}"
            f"/operations/{op_id}"
        )
        kind = fault.kind if fault and not fault.created else None
        with self.lock:
            op = Operation(name=name, op_id=op_id, started=time.monotonic(), delay_s=self.video_s)
            if kind == "hang":
                op.hang = True
            elif kind in ("blocked", "op_error", "no_video"):
                op.result = self._outcome(kind)
            self._prune_locked()
            self.ops[name] = op
        if kind is None:
            threading.Thread(
                target=self._produce,
                args=(
                    op,
                    prompt,
                    image_bytes,
                    width,
                    height,
                    duration,
                    samples,
                    storage_uri,
                    bool(audio),
                ),
                name=f"encode-{op_id[:8]}",
                daemon=True,
            ).start()
        if fault and fault.created:
            # The job exists and will be paid for, but the caller never learns
            # its name: the answer is lost to a 5xx or to the caller's timeout.
            self.faults.release.wait(fault.delay_s)
            raise ApiError(fault.status, fault.message)
        return {"name": name}

    @staticmethod
    def _outcome(kind: str) -> dict:
        if kind == "blocked":
            return {
                "response": {
                    "@type": VIDEO_RESPONSE_TYPE,
                    "raiMediaFilteredCount": 1,
                    "raiMediaFilteredReasons": [RAI_REASON],
                }
            }
        if kind == "op_error":
            return {"error": {"code": 13, "message": OP_ERROR_MESSAGE}}
        if kind == "no_video":
            return {"response": {"@type": VIDEO_RESPONSE_TYPE, "raiMediaFilteredCount": 0}}
        raise ValueError(kind)

    def _produce(
        self,
        op: Operation,
        prompt: str,
        image_bytes: bytes | None,
        width: int,
        height: int,
        duration: int,
        samples: int,
        storage_uri: str | None,
        audio: bool = False,
    ) -> None:
        t0 = time.monotonic()
        try:
            if image_bytes is None:
                image_bytes = draw.draw_png(prompt, width, height)
            mp4 = video.encode_clip(image_bytes, width, height, duration, audio=audio)
            t1 = time.monotonic()
            # Veo writes its output when the operation finishes, not before:
            # hold the clip back until the latency setting says it is done.
            time.sleep(max(0.0, op.started + op.delay_s - time.monotonic()))
            videos = []
            for i in range(samples):
                if storage_uri:
                    if not self.storage_url:
                        raise storage.StorageError(
                            "storageUri given but no storage emulator configured (--storage-url)"
                        )
                    uri = f"{storage_uri.rstrip('/')}/{op.op_id}/sample_{i}.mp4"
                    storage.upload(self.storage_url, uri, mp4, "video/mp4")
                    videos.append({"gcsUri": uri, "mimeType": "video/mp4"})
                else:
                    videos.append(
                        {
                            "bytesBase64Encoded": base64.b64encode(mp4).decode(),
                            "mimeType": "video/mp4",
                        }
                    )
            result = {
                "response": {
                    "@type": VIDEO_RESPONSE_TYPE,
                    "raiMediaFilteredCount": 0,
                    "videos": videos,
                }
            }
            _log(
                f"operation {op.op_id} {width}x{height} {duration}s encoded in {t1 - t0:.2f}s,"
                f" stored {time.monotonic() - t1:.2f}s later ({len(mp4)} bytes)"
            )
        except storage.StorageError as exc:
            code = 7 if exc.status == 403 else 13
            result = {"error": {"code": code, "message": str(exc)}}
            _log(f"operation {op.op_id} failed: {exc}")
        except Exception as exc:  # noqa: BLE001 - any failure ends the operation
            result = {"error": {"code": 13, "message": f"video generation failed: {exc}"}}
            _log(f"operation {op.op_id} failed: {exc}\n{traceback.format_exc()}")
        with self.lock:
            if op.result is None:  # a fetch fault may have decided the outcome already
                op.result = result

    def _prune_locked(self) -> None:
        if len(self.ops) < 1000:
            return
        cutoff = time.time() - 3600
        for key in [k for k, o in self.ops.items() if o.created_wall < cutoff]:
            del self.ops[key]

    # ---- fetchPredictOperation -----------------------------------------------

    def fetch_operation(self, name: object, fault: Fault | None) -> dict:
        if fault and fault.kind == "http":
            raise ApiError(fault.status, fault.message)
        if not isinstance(name, str) or not name:
            raise ApiError(400, "operationName is required")
        with self.lock:
            op = self.ops.get(name)
            if op is None:
                raise ApiError(404, f"Operation {name} not found.")
            if fault and fault.kind == "hang":
                op.hang = True
            elif fault and fault.kind in ("blocked", "op_error", "no_video"):
                op.result = self._outcome(fault.kind)
                op.delay_s = 0.0
                op.hang = False
            done = (
                not op.hang
                and op.result is not None
                and time.monotonic() - op.started >= op.delay_s
            )
            if not done or op.result is None:
                # Like Vertex, a running operation's answer has no `done` at all:
                # google.longrunning.Operation in proto3 JSON omits a false bool
                # (https://protobuf.dev/programming-guides/proto3/#json), and the
                # SDK reads the absence as None (GenerateVideosOperation.done).
                return {"name": op.name}
            return {"name": op.name, "done": True, **op.result}


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

    def _json_body(self, raw: bytes) -> dict:
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"Invalid JSON payload received. {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON payload received. Expected an object.")
        return body

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
            _log(f"internal error on {verb} {path}: {exc}\n{traceback.format_exc()}")
            code, payload = 500, error_body(500, f"emulator internal error: {exc}")
        try:
            self._send(code, payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        _log(
            f'{self.client_address[0]} "{verb} {self.path}" {code} {time.monotonic() - start:.3f}s'
        )

    def _route(self, verb: str, path: str, raw: bytes) -> tuple[int, dict]:
        emu = self.emulator
        if path.startswith("/_emulator/"):
            return self._control(verb, path[len("/_emulator/") :], raw)
        m = _MODEL_RE.match(path)
        if m:
            _, project, location, publisher, model, method = m.groups()
            if method not in METHODS:
                raise ApiError(404, f"Method {method} is not served by the media emulator.")
            if verb != "POST":
                raise ApiError(405, f"{method} takes POST")
            emu.count(method)
            body = self._json_body(raw)
            try:
                spec = models.check_served(project, location, model, method)
            except models.NotServed as exc:
                raise ApiError(404, str(exc)) from None
            if not emu.quotas.admit(method):
                emu.count_rejected(method)
                raise ApiError(
                    429,
                    f"Quota exceeded for aiplatform.googleapis.com/{method} per minute"
                    f" for {model} (emulated quota).",
                )
            if method != "fetchPredictOperation":
                emu.recorded.record(method, model, body)
            fault = emu.faults.take(method)
            if fault:
                _log(f"fault {fault.kind} ({fault.status}) on {method}")
                if fault.kind == "http" and fault.status == 429:
                    emu.count_rejected(method)
            if method == "generateContent":
                return 200, emu.generate_content(model, body, fault)
            if method == "predictLongRunning":
                return 200, emu.predict_long_running(
                    project, location, publisher, model, body, fault, spec
                )
            return 200, emu.fetch_operation(_get(body, "operationName", "operation_name"), fault)
        m = _OPERATION_RE.match(path)
        if m and verb == "GET":
            return 200, emu.fetch_operation(m.group(2), None)
        raise ApiError(404, f"No route for {verb} {path}.")

    def _control(self, verb: str, route: str, raw: bytes) -> tuple[int, dict]:
        emu = self.emulator
        route = route.rstrip("/")
        if route == "calls" and verb == "GET":
            return 200, emu.counters()
        if route == "quota":
            if verb == "GET":
                return 200, {"quota": emu.quotas.limits()}
            if verb == "POST":
                return 200, emu.set_quota(self._json_body(raw))
        if route == "requests" and verb == "GET":
            return 200, {"requests": emu.recorded.all()}
        if route == "latency":
            if verb == "GET":
                return 200, emu.latency()
            if verb == "POST":
                return 200, emu.set_latency(self._json_body(raw))
        if route == "faults":
            if verb == "GET":
                return 200, emu.faults.pending()
            if verb == "DELETE":
                emu.faults.clear()
                return 200, {"cleared": True}
            if verb == "POST":
                try:
                    fault = parse_fault(self._json_body(raw))
                except FaultSpecError as exc:
                    raise ApiError(400, str(exc)) from None
                emu.faults.add(fault)
                return 200, {
                    "registered": {
                        "method": fault.method,
                        "kind": fault.kind,
                        "status": fault.status,
                        "count": fault.remaining,
                    }
                }
        if route == "options" and verb == "POST":
            return 200, emu.set_options(self._json_body(raw))
        if route == "reset" and verb == "POST":
            emu.reset()
            return 200, {"reset": True}
        raise ApiError(404, f"No control route {verb} /_emulator/{route}.")


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
