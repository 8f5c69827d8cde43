"""Adapters over google-genai (Vertex AI): a still from a Gemini image model,
a clip from Veo. The pipeline sees only these small interfaces, so tests can
swap in fakes and the same code runs against the media emulator and Vertex."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Protocol

from shared.clients import genai_client
from shared.errors import MediaError, PermanentError, SafetyBlocked, TransientError
from shared.transient import transport_error


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
    def generate(self, model: str, prompt: str, aspect_ratio: str, image_size: str,
                 references: list[str]) -> Still: ...


class VideoModel(Protocol):
    def start(self, model: str, image_png: bytes, prompt: str, duration_seconds: int,
              aspect_ratio: str, resolution: str, audio: bool, output_gcs_uri: str) -> str: ...

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
        return TransientError(f"transport error: {type(found).__module__}."
                              f"{type(found).__name__}")
    return PermanentError(permanent_reason, f"{type(exc).__name__}: {exc}")


def _to_png(data: bytes, mime_type: str) -> Still:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
        if mime_type != "image/png":
            out = io.BytesIO()
            img.save(out, format="PNG")
            data = out.getvalue()
    return Still(data=data, mime_type="image/png", width=width, height=height)


def _mime_for(uri: str) -> str:
    lower = uri.lower()
    if lower.endswith((".jpg", ".jpeg")):
        return "image/jpeg"
    if lower.endswith(".webp"):
        return "image/webp"
    return "image/png"


class GenaiImageModel:
    def generate(self, model: str, prompt: str, aspect_ratio: str, image_size: str,
                 references: list[str]) -> Still:
        from google.genai import types

        parts = [types.Part.from_uri(file_uri=uri, mime_type=_mime_for(uri))
                 for uri in references]
        parts.append(types.Part.from_text(text=prompt))
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=aspect_ratio, image_size=image_size),
        )
        try:
            response = genai_client().models.generate_content(
                model=model, contents=[types.Content(role="user", parts=parts)], config=config)
        except Exception as exc:  # noqa: BLE001 - classified below
            raise classify(exc, "image_failed") from exc
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and feedback.block_reason:
            raise SafetyBlocked("image_blocked", f"prompt blocked: {feedback.block_reason}")
        for candidate in response.candidates or []:
            for part in (candidate.content.parts if candidate.content else None) or []:
                if part.thought or part.inline_data is None or not part.inline_data.data:
                    continue
                return _to_png(part.inline_data.data, part.inline_data.mime_type or "image/png")
        reason = ""
        if response.candidates:
            reason = str(response.candidates[0].finish_reason or "")
        if any(word in reason for word in ("SAFETY", "PROHIBITED", "BLOCK", "RECITATION")):
            raise SafetyBlocked("image_blocked", f"no image: {reason}")
        # NO_IMAGE and friends: the same prompt often works on the next try.
        raise TransientError(f"no image in the answer ({reason or 'no candidates'})")


class GenaiVideoModel:
    def start(self, model: str, image_png: bytes, prompt: str, duration_seconds: int,
              aspect_ratio: str, resolution: str, audio: bool, output_gcs_uri: str) -> str:
        from google.genai import types

        config = types.GenerateVideosConfig(
            number_of_videos=1, duration_seconds=duration_seconds, aspect_ratio=aspect_ratio,
            resolution=resolution, generate_audio=audio, output_gcs_uri=output_gcs_uri,
        )
        try:
            operation = genai_client().models.generate_videos(
                model=model, prompt=prompt,
                image=types.Image(image_bytes=image_png, mime_type="image/png"), config=config)
        except Exception as exc:  # noqa: BLE001
            raise classify(exc, "video_failed") from exc
        if not operation.name:
            raise TransientError("Veo answered without an operation name")
        return operation.name

    def poll(self, operation_name: str) -> ClipResult:
        from google.genai import types

        try:
            # google-genai declares `name` on its Operation ABC mixin rather than on a
            # pydantic model, so type checkers miss the field pydantic builds at runtime.
            pending = types.GenerateVideosOperation(name=operation_name)  # type: ignore[call-arg]
            op = genai_client().operations.get(pending)
        except Exception as exc:  # noqa: BLE001
            raise classify(exc, "video_failed") from exc
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
