"""The last requests the emulator served, for tests that check what the
pipeline sent (prompts, reference images), not only how often it called.

GET /_emulator/requests answers {"requests": [...]}, oldest first, each
{"method", "model", "prompt", "file_uris", "inline_images", "output_mime_type"}
(imageConfig.imageOutputOptions.mimeType, or None); reset clears it.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

KEEP = 200  # enough for any one test; old entries fall off


def _parts(body: dict) -> list[dict]:
    contents = body.get("contents")
    if isinstance(contents, dict):
        contents = [contents]
    parts: list[dict] = []
    for content in contents if isinstance(contents, list) else []:
        if isinstance(content, dict) and isinstance(content.get("parts"), list):
            parts += [p for p in content["parts"] if isinstance(p, dict)]
    return parts


def summary(method: str, model: str, body: Any) -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    parts = _parts(body)
    texts = [p["text"] for p in parts if isinstance(p.get("text"), str)]
    for instance in body.get("instances") or []:  # predictLongRunning (Veo)
        if isinstance(instance, dict) and isinstance(instance.get("prompt"), str):
            texts.append(instance["prompt"])
    files = [p.get("fileData") or p.get("file_data") for p in parts]
    uris = [f.get("fileUri") or f.get("file_uri") for f in files if isinstance(f, dict)]
    inline = sum(1 for p in parts if isinstance(p.get("inlineData") or p.get("inline_data"), dict))
    gen = body.get("generationConfig")
    image_config = gen.get("imageConfig") if isinstance(gen, dict) else None
    options = image_config.get("imageOutputOptions") if isinstance(image_config, dict) else None
    output = options.get("mimeType") if isinstance(options, dict) else None
    return {
        "method": method,
        "model": model,
        "prompt": "\n".join(texts)[:4000],
        "file_uris": [u for u in uris if isinstance(u, str)],
        "inline_images": inline,
        "output_mime_type": output,
    }


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: deque[dict[str, Any]] = deque(maxlen=KEEP)

    def record(self, method: str, model: str, body: Any) -> None:
        entry = summary(method, model, body)
        with self._lock:
            self._items.append(entry)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
