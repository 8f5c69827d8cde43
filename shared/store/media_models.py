"""Adapters over google-genai (Vertex AI): a still from a Gemini image model,
a clip from Veo. The pipeline sees only these small interfaces, so tests can
swap in fakes and the same code runs against the media emulator and Vertex."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from shared.core import log
from shared.core.errors import (
    MediaError,
    PermanentError,
    QuotaExceeded,
    RetriesSpent,
    SafetyBlocked,
    StartUncertain,
    TransientError,
)
from shared.core.settings import get_settings
from shared.core.transient import transport_error
from shared.domain.locations import location_for, location_of_operation
from shared.domain.references import mime_for
from shared.domain.status import Reason
from shared.store.connections import genai_client

if TYPE_CHECKING:
    from google.genai import types as genai_types

# Status codes the SDK retries for us (HttpRetryOptions). Google answered
# them without producing anything, so a retry cannot pay twice. The SDK also
# retries its own timeouts and connection errors whatever this list says,
# which is why the Veo start, where a timeout is ambiguous, gets no SDK retry.
SDK_RETRY_CODES = [429, 500, 502, 503, 504]


@dataclass(frozen=True)
class Still:
    data: bytes
    mime_type: str
    width: int
    height: int


@dataclass(frozen=True)
class ClipResult:
    done: bool
    uri: str | None = None
    error: str | None = None
    blocked: bool = False


class ImageModel(Protocol):
    def generate(
        self, model: str, prompt: str, aspect_ratio: str, image_size: str, references: list[str]
    ) -> Still: ...


class VideoModel(Protocol):
    def start(
        self,
        model: str,
        image_png: bytes,
        prompt: str,
        duration_seconds: int,
        aspect_ratio: str,
        resolution: str,
        audio: bool,
        output_gcs_uri: str,
    ) -> str: ...

    def poll(self, operation_name: str) -> ClipResult: ...


def classify(exc: Exception, permanent_reason: str) -> MediaError:
    """Map an SDK or transport error to transient (retry) or permanent."""
    from google.genai import errors

    if isinstance(exc, MediaError):
        return exc
    if isinstance(exc, errors.APIError):
        code = int(getattr(exc, "code", 0) or 0)
        if code in (408, 429) or code >= 500:
            return TransientError(f"{permanent_reason.split('_')[0]} model answered {code}")
        return PermanentError(permanent_reason, f"model answered {code}: {exc.message}")
    # google-genai 3.6 raises its vendored httpx2's errors (ConnectError,
    # RemoteProtocolError, ReadError, ReadTimeout), not httpx's: see transient.py.
    found = transport_error(exc)
    if found is not None:
        return TransientError(f"transport error: {type(found).__module__}.{type(found).__name__}")
    return PermanentError(permanent_reason, f"{type(exc).__name__}: {exc}")


def _ms(seconds: float) -> int:
    return int(seconds * 1000)  # HttpOptions.timeout is in milliseconds


def _retry_options(codes: list[int] = SDK_RETRY_CODES) -> genai_types.HttpRetryOptions:
    from google.genai import types

    return types.HttpRetryOptions(
        attempts=3, initial_delay=1.0, max_delay=8.0, http_status_codes=codes
    )


def _image_paced() -> bool:
    return get_settings().MEDIA_IMAGE_CALLS_PER_MIN > 0


def _image_retry_codes() -> list[int]:
    """Paced image calls get no SDK retry on a 429: the retry would skip the
    model's pacing, and the 429 is what slows it (image_pacing.paced_call)."""
    return [c for c in SDK_RETRY_CODES if c != 429] if _image_paced() else SDK_RETRY_CODES


def not_served(exc: Exception, model: str, location: str, reason: str) -> PermanentError | None:
    """A 404 on a model call means Vertex does not serve `model` at `location`
    (or at all): say so plainly, with the setting that fixes it."""
    from google.genai import errors

    if not (isinstance(exc, errors.APIError) and exc.code == 404):
        return None
    detail = (
        f"{model} is not served in location {location!r} (Vertex answered 404 "
        f"NOT_FOUND); check the catalog's models or MEDIA_MODEL_LOCATIONS"
    )
    log.error("model_unavailable", detail, model=model, location=location)
    return PermanentError(reason, detail)


def _after_sdk_retries(exc: Exception, reason: str) -> MediaError:
    """Classify; a transient HTTP answer here already had its SDK retries."""
    from google.genai import errors

    err = classify(exc, reason)
    if isinstance(err, TransientError) and isinstance(exc, errors.APIError):
        return RetriesSpent(str(err))
    return err


def start_outcome_unknown(exc: Exception) -> bool:
    """Whether a failed Veo start may have created an operation anyway.

    Known to create nothing: any 4xx answer (429 is quota refusing before any
    work, 400/403/404 refuse the request), and transport failures before the
    request left (connect errors, a connect timeout, no free connection in
    the pool). Everything else (5xx, a read timeout, a connection dropped
    after sending) may have started a paid job: Vertex has no idempotency key
    for predictLongRunning."""
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        return int(exc.code or 0) >= 500
    # google-genai sends through httpx2 (a fork under its own namespace) when
    # it is installed, else httpx: their exception classes are unrelated.
    for module in _httpx_modules():
        if isinstance(exc, (module.ConnectError, module.ConnectTimeout, module.PoolTimeout)):
            return False
        if isinstance(exc, module.TransportError):
            return True
    return isinstance(exc, (TimeoutError, ConnectionError))


def _httpx_modules() -> list:
    import importlib

    found = []
    for name in ("httpx2", "httpx"):
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            continue
    return found


# Stills are asked for as PNG (ImageConfig.output_mime_type, Vertex only): the
# pipeline stores and hands Veo a PNG, and reading its size from the header
# keeps an imaging library out of the functions. Anything else is refused.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a complete PNG's IHDR chunk; PermanentError otherwise."""
    if not data.startswith(PNG_SIGNATURE):
        kind = "a JPEG" if data.startswith(b"\xff\xd8\xff") else f"{data[:8]!r}..."
        raise PermanentError("image_failed", f"the image model answered {kind}, not a PNG")
    # signature, IHDR length (13), "IHDR", width, height, 5 more bytes, CRC
    if len(data) < 33 + len(PNG_IEND) or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise PermanentError(
            "image_failed",
            f"truncated PNG from the image model ({len(data)} bytes, no complete IHDR)",
        )
    if not data.endswith(PNG_IEND):
        raise PermanentError(
            "image_failed", f"truncated PNG from the image model ({len(data)} bytes, no IEND)"
        )
    width, height = struct.unpack(">II", data[16:24])
    if not width or not height:
        raise PermanentError("image_failed", f"PNG from the image model is {width}x{height}")
    return width, height


def png_still(data: bytes, mime_type: str) -> Still:
    if mime_type != "image/png":
        raise PermanentError(
            "image_failed", f"the image model answered {mime_type}, not the image/png asked for"
        )
    width, height = png_size(data)
    return Still(data=data, mime_type="image/png", width=width, height=height)


class GenaiImageModel:
    def generate(
        self, model: str, prompt: str, aspect_ratio: str, image_size: str, references: list[str]
    ) -> Still:
        from google.genai import types

        parts = [types.Part.from_uri(file_uri=uri, mime_type=mime_for(uri)) for uri in references]
        parts.append(types.Part.from_text(text=prompt))
        location = location_for(model)
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(
                aspect_ratio=aspect_ratio, image_size=image_size, output_mime_type="image/png"
            ),
            http_options=types.HttpOptions(
                timeout=_ms(get_settings().MEDIA_IMAGE_TIMEOUT_S),
                retry_options=_retry_options(_image_retry_codes()),
            ),
        )
        try:
            response = genai_client(location).models.generate_content(
                model=model, contents=[types.Content(role="user", parts=parts)], config=config
            )
        except Exception as exc:  # noqa: BLE001 - classified below
            if _image_paced() and getattr(exc, "code", None) == 429:
                raise QuotaExceeded(f"{model} quota at {location}: {str(exc)[:200]}") from exc
            raise (
                not_served(exc, model, location, Reason.MODEL_UNAVAILABLE)
                or _after_sdk_retries(exc, Reason.IMAGE_FAILED)
            ) from exc
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and feedback.block_reason:
            raise SafetyBlocked(Reason.IMAGE_BLOCKED, f"prompt blocked: {feedback.block_reason}")
        for candidate in response.candidates or []:
            for part in (candidate.content.parts if candidate.content else None) or []:
                if part.thought or part.inline_data is None or not part.inline_data.data:
                    continue
                return png_still(part.inline_data.data, part.inline_data.mime_type or "image/png")
        reason = ""
        if response.candidates:
            reason = str(response.candidates[0].finish_reason or "")
        if any(word in reason for word in ("SAFETY", "PROHIBITED", "BLOCK", "RECITATION")):
            raise SafetyBlocked(Reason.IMAGE_BLOCKED, f"no image: {reason}")
        # NO_IMAGE and friends: the same prompt often works on the next try.
        raise TransientError(f"no image in the answer ({reason or 'no candidates'})")


class GenaiVideoModel:
    def start(
        self,
        model: str,
        image_png: bytes,
        prompt: str,
        duration_seconds: int,
        aspect_ratio: str,
        resolution: str,
        audio: bool,
        output_gcs_uri: str,
    ) -> str:
        from google.genai import types

        location = location_for(model)
        config = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=duration_seconds,
            aspect_ratio=aspect_ratio,
            resolution=resolution,
            generate_audio=audio,
            output_gcs_uri=output_gcs_uri,
            # A timeout, and no SDK retries at all: the SDK would retry a read
            # timeout, and a timed-out start may already be a paid operation.
            http_options=types.HttpOptions(timeout=_ms(get_settings().MEDIA_VEO_START_TIMEOUT_S)),
        )
        source = types.GenerateVideosSource(
            prompt=prompt, image=types.Image(image_bytes=image_png, mime_type="image/png")
        )
        try:
            operation = genai_client(location).models.generate_videos(
                model=model, source=source, config=config
            )
        except Exception as exc:  # noqa: BLE001
            if start_outcome_unknown(exc):
                raise StartUncertain(
                    f"Veo start at {location}: {type(exc).__name__}: {str(exc)[:300]}"
                ) from exc
            if getattr(exc, "code", None) == 429:
                raise QuotaExceeded(f"Veo quota at {location}: {str(exc)[:200]}") from exc
            raise (
                not_served(exc, model, location, Reason.VIDEO_FAILED)
                or classify(exc, Reason.VIDEO_FAILED)
            ) from exc
        if not operation.name:
            raise TransientError("Veo answered without an operation name")
        return operation.name

    def poll(self, operation_name: str) -> ClipResult:
        from google.genai import types

        try:
            # google-genai declares `name` on its Operation ABC mixin rather than on a
            # pydantic model, so type checkers miss the field pydantic builds at runtime.
            pending = types.GenerateVideosOperation(name=operation_name)  # type: ignore[call-arg]
            # Polling is a free, idempotent read: the SDK may retry it freely.
            config = types.GetOperationConfig(
                http_options=types.HttpOptions(
                    timeout=_ms(get_settings().MEDIA_VEO_POLL_TIMEOUT_S),
                    retry_options=_retry_options(),
                )
            )
            client = genai_client(location_of_operation(operation_name))
            op = client.operations.get(pending, config=config)
        except Exception as exc:  # noqa: BLE001
            raise _after_sdk_retries(exc, Reason.VIDEO_FAILED) from exc
        if not op.done:
            return ClipResult(done=False)
        if op.error:
            return ClipResult(done=True, error=str(op.error.get("message") or op.error)[:500])
        response = op.response or op.result
        videos = (response.generated_videos if response else None) or []
        for generated in videos:
            if generated.video and generated.video.uri:
                return ClipResult(done=True, uri=generated.video.uri)
        if response and (response.rai_media_filtered_count or 0) > 0:
            reasons = response.rai_media_filtered_reasons or []
            return ClipResult(done=True, blocked=True, error="; ".join(reasons)[:500])
        return ClipResult(done=True, error="the operation finished without a video")
