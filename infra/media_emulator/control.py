"""Control routes under /_emulator/: counters, quotas, latency, faults, options
and reset (the list is in server.py's docstring)."""

from __future__ import annotations

from .emulator import Emulator
from .faults import METHODS, FaultSpecError, parse_fault
from .payload import ApiError, json_body, number


def control(emu: Emulator, verb: str, route: str, raw: bytes) -> tuple[int, dict]:
    """Answer a control route (the path after /_emulator/)."""
    route = route.rstrip("/")
    if route == "calls" and verb == "GET":
        return 200, emu.counters()
    if route == "quota":
        if verb == "GET":
            return 200, {"quota": emu.quotas.limits()}
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


def set_quota(emu: Emulator, body: object) -> dict:
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
    emu.quotas.set(method, limit, float(window))
    return {"quota": emu.quotas.limits()}


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
