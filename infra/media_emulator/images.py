"""generateContent: an image (or text) answer drawn from the prompt and the
reference images, with Vertex's usage metadata, blocks and thought parts."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

from . import draw, storage
from .emulator import Emulator
from .faults import Fault
from .payload import ApiError, b64decode, now_rfc3339, pick

IMAGE_TOKENS = {"1K": 1120, "2K": 1120, "4K": 2000}


def generate_content(emu: Emulator, model: str, body: dict, fault: Fault | None) -> dict:
    start = time.monotonic()
    if fault and fault.kind == "http":
        raise ApiError(fault.status, fault.message)
    if fault and fault.kind == "hang":
        emu.faults.release.wait(fault.hang_s)
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
            inline = pick(part, "inlineData", "inline_data")
            if isinstance(inline, dict):
                mime = pick(inline, "mimeType", "mime_type") or ""
                data = b64decode(inline.get("data", ""))
                if mime.startswith("image/"):
                    n_image_inputs += 1
                    try:
                        refs.append(draw.decode_image(data))
                    except draw.DrawError as exc:
                        raise ApiError(400, str(exc)) from None
            file_data = pick(part, "fileData", "file_data")
            if isinstance(file_data, dict):
                uri = pick(file_data, "fileUri", "file_uri")
                if not isinstance(uri, str) or not uri:
                    raise ApiError(400, "fileData.fileUri is required")
                n_image_inputs += 1
                if uri.startswith("gs://") and emu.storage_url:
                    try:
                        refs.append(draw.decode_image(storage.download(emu.storage_url, uri)))
                    except (storage.StorageError, draw.DrawError, ValueError) as exc:
                        raise ApiError(400, f"cannot use fileData {uri}: {exc}") from None
    prompt = "\n".join(t for t in texts if t.strip()).strip()
    if not prompt and not refs:
        raise ApiError(400, "the request has no text and no image parts")

    gen = pick(body, "generationConfig", "generation_config")
    gen = {} if gen is None else gen
    if not isinstance(gen, dict):
        raise ApiError(400, "generationConfig must be an object")
    modalities = pick(gen, "responseModalities", "response_modalities") or ["TEXT"]
    want_image = any(str(m).upper() == "IMAGE" for m in modalities)
    img_cfg = pick(gen, "imageConfig", "image_config")
    img_cfg = {} if img_cfg is None else img_cfg
    if not isinstance(img_cfg, dict):
        raise ApiError(400, "imageConfig must be an object")
    aspect = pick(img_cfg, "aspectRatio", "aspect_ratio")
    size = pick(img_cfg, "imageSize", "image_size")
    try:
        width, height = draw.image_dimensions(aspect, size)
        out_mime, quality = draw.output_format(
            pick(img_cfg, "imageOutputOptions", "image_output_options")
        )
    except draw.DrawError as exc:
        raise ApiError(400, str(exc)) from None

    with emu.lock:
        image_s, thought_parts = emu.image_s, emu.thought_parts
    prompt_tokens = max(1, len(prompt) // 4) + 258 * n_image_inputs
    usage: dict[str, Any] = {
        "promptTokenCount": prompt_tokens,
        "totalTokenCount": prompt_tokens,
        "trafficType": "ON_DEMAND",
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": max(1, len(prompt) // 4)}]
        + ([{"modality": "IMAGE", "tokenCount": 258 * n_image_inputs}] if n_image_inputs else []),
    }
    envelope = {
        "modelVersion": model,
        "createTime": now_rfc3339(),
        "responseId": uuid.uuid4().hex[:22],
    }

    if fault and fault.kind == "blocked":
        sleep_until(start + image_s)
        variant = fault.variant
        if variant is None:
            with emu.lock:
                emu.blocked_n += 1
                variant = "prompt" if emu.blocked_n % 2 == 1 else "finish"
        if variant == "prompt":
            return {
                "promptFeedback": {
                    "blockReason": "SAFETY",
                    "blockReasonMessage": "The prompt was blocked for safety reasons (emulated).",
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
        sleep_until(start + image_s)
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
        draft = draw.draw_png("draft: " + (prompt or ""), max(1, width // 4), max(1, height // 4))
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
    sleep_until(start + image_s)
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


def sleep_until(deadline: float) -> None:
    left = deadline - time.monotonic()
    if left > 0:
        time.sleep(left)
