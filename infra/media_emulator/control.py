"""Control routes under /_emulator/: counters, quotas, latency, faults, options
and reset (the list is in server.py's docstring)."""

from __future__ import annotations

from .emulator import Emulator
from .faults import METHODS, FaultSpecError, parse_fault
from .models import METHOD_KIND, served_models
from .payload import ApiError, json_body, number


def control(emu: Emulator, verb: str, route: str, raw: bytes) -> tuple[int, dict]:
    """Answer a control route (the path after /_emulator/)."""
    route = route.rstrip("/")
    if route == "calls" and verb == "GET":
        return 200, emu.counters()
    if route == "quota":
        if verb == "GET":
            return 200, quotas(emu)
        if verb == "POST":
            return 200, set_quota(emu, json_body(raw))
    if route == "requests" and verb == "GET":
        return 200, {"requests": emu.recorded.all()}
    if route == "latency":
        if verb == "GET":
            return 200, latency(emu)
        if verb == "POST":
            return 200, set_latency(emu, json_body(raw))
    if route == "faults":
        if verb == "GET":
            return 200, emu.faults.pending()
        if verb == "DELETE":
            emu.faults.clear()
            return 200, {"cleared": True}
        if verb == "POST":
            try:
                fault = parse_fault(json_body(raw))
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
        return 200, set_options(emu, json_body(raw))
    if route == "reset" and verb == "POST":
        emu.reset()
        return 200, {"reset": True}
    raise ApiError(404, f"No control route {verb} /_emulator/{route}.")


# The method a model's quota counts when none is named: the one that makes
# its media (a Veo start, an image), as Vertex's per-model quotas do.
GENERATING = {"video": "predictLongRunning", "image": "generateContent"}


def quotas(emu: Emulator) -> dict:
    return {"quota": emu.quotas.limits(), "by_model": emu.quotas.model_limits()}


def set_quota(emu: Emulator, body: object) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object")
    unknown = set(body) - {"method", "per_minute", "window_s", "model", "location"}
    if unknown:
        raise ApiError(
            400,
            f"unknown keys: {sorted(unknown)}; expected method, per_minute, window_s,"
            " model, location",
        )
    model, location = body.get("model"), body.get("location")
    served = served_models()  # the catalog's models and where they are served
    if model is not None and model not in served:
        raise ApiError(400, f"model must be one the emulator serves, got {model!r}")
    if location is not None:
        if model is None:
            raise ApiError(400, "location needs a model: quotas are per base model and region")
        if location not in served[model].locations:
            raise ApiError(
                400,
                f"{model} is served only from {list(served[model].locations)}, not {location!r}",
            )
    method = body.get("method")
    if method is None and model is not None:
        method = GENERATING[served[model].kind]
    limit = body.get("per_minute", 0)
    if method not in METHODS:
        raise ApiError(400, f"method must be one of {list(METHODS)}, got {method!r}")
    if model is not None and METHOD_KIND[method] != served[model].kind:
        raise ApiError(400, f"{model} is not called with {method}")
    if limit is None:
        limit = 0
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ApiError(400, f"per_minute must be a non-negative integer, got {limit!r}")
    window = body.get("window_s", 60.0)
    number = isinstance(window, (int, float)) and not isinstance(window, bool)
    if not number or not 0 < window <= 3600:
        raise ApiError(400, f"window_s must be seconds in (0, 3600], got {window!r}")
    emu.quotas.set(method, limit, float(window), model, location)
    return quotas(emu)


def set_latency(emu: Emulator, body: object) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object")
    unknown = set(body) - {"image_s", "video_s"}
    if unknown:
        raise ApiError(400, f"unknown keys: {sorted(unknown)}; expected image_s, video_s")
    new = {k: number(body[k], k) for k in ("image_s", "video_s") if k in body}
    with emu.lock:
        emu.image_s = new.get("image_s", emu.image_s)
        emu.video_s = new.get("video_s", emu.video_s)
        return {"image_s": emu.image_s, "video_s": emu.video_s}


def latency(emu: Emulator) -> dict:
    with emu.lock:
        return {"image_s": emu.image_s, "video_s": emu.video_s}


def set_options(emu: Emulator, body: object) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object")
    unknown = set(body) - {"thought_parts"}
    if unknown:
        raise ApiError(400, f"unknown keys: {sorted(unknown)}; expected thought_parts")
    if "thought_parts" in body:
        if not isinstance(body["thought_parts"], bool):
            raise ApiError(400, "thought_parts must be a boolean")
        with emu.lock:
            emu.thought_parts = body["thought_parts"]
    with emu.lock:
        return {"thought_parts": emu.thought_parts}
