"""The media tools in AIDM's own ToolRegistry (deusversus/aidm, src/llm/tools.py).

AIDM's ProductionAgent registers `ToolDefinition(name, description,
parameters=[ToolParam(name, type, description, required=...)], handler)` in a
`ToolRegistry` and runs each handler with the model's arguments as keywords on
its event loop thread, whichever provider (Google, Anthropic, OpenAI) the
agent uses. This module builds definitions of that shape without importing
AIDM: the registry's own module supplies ToolDefinition and ToolParam when it
has them (so AIDM's type checks hold), else small look-alikes here do.

Handlers are coroutines that move the call (a Firestore read and a Pub/Sub
publish, tens of milliseconds) to a worker thread, so the loop keeps serving
other players, and answer a dict, never an exception.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from shared.aidm.calls import handle_function_call
from shared.aidm.context import TurnContext
from shared.aidm.declarations import ToolSpec, tool_specs
from shared.client import MediaClient
from shared.core import log

# AIDM's ToolParam types are Python-ish names; every media parameter is text
# (a list of names travels as "Rei, Asuka", which calls.py splits).
_AIDM_TYPE = {"string": "str", "array": "str"}
_REMOVERS = ("unregister", "remove", "deregister")


@dataclass
class ToolParam:
    """The shape of AIDM's ToolParam, for registries that do not define one."""

    name: str
    type: str
    description: str
    required: bool = True


@dataclass
class ToolDefinition:
    """The shape of AIDM's ToolDefinition, for registries that do not define one."""

    name: str
    description: str
    parameters: list[Any] = field(default_factory=list)
    handler: Callable[..., Awaitable[dict[str, Any]]] | None = None


def _shapes(registry: Any) -> tuple[Any, Any]:
    module = sys.modules.get(type(registry).__module__)
    definition = getattr(module, "ToolDefinition", None) or ToolDefinition
    param = getattr(module, "ToolParam", None) or ToolParam
    return definition, param


def _handler(
    name: str, ctx: TurnContext, lock: threading.Lock
) -> Callable[..., Awaitable[dict[str, Any]]]:
    def run(args: dict[str, Any]) -> dict[str, Any]:
        with lock:  # one call of this turn at a time: the turn limits count published ones
            return handle_function_call({"name": name, "args": args}, ctx)

    async def handler(**kwargs: Any) -> dict[str, Any]:
        try:
            return await asyncio.to_thread(run, kwargs)
        except Exception as exc:  # noqa: BLE001 - never into AIDM's turn
            log.error(
                "aidm_tool_failed",
                f"{name} failed: {type(exc).__name__}: {exc}",
                campaign_id=ctx.campaign_id,
            )
            return {
                "status": "failed",
                "reason": "internal",
                "error": "The media request failed; nothing was made. Carry on.",
            }

    handler.__name__ = name
    return handler


def _definition(
    spec: ToolSpec, ctx: TurnContext, lock: threading.Lock, definition: Any, param: Any
) -> Any:
    params = [
        param(p.name, _AIDM_TYPE[p.type], _param_text(p), required=p.required) for p in spec.params
    ]
    return definition(
        name=spec.name,
        description=spec.description,
        parameters=params,
        handler=_handler(spec.name, ctx, lock),
    )


def _param_text(p: Any) -> str:
    text = p.description
    if p.type == "array":
        text += " Comma-separated."
    if p.enum:
        text += f" One of: {', '.join(p.enum)}."
    return text


def _remove(registry: Any, name: str) -> None:
    for method in _REMOVERS:
        remove = getattr(registry, method, None)
        if callable(remove):
            try:
                remove(name)
            except (KeyError, ValueError, LookupError):
                pass
            return
    tools = getattr(registry, "_tools", None)
    if isinstance(tools, dict):
        tools.pop(name, None)


def register_tools(registry: Any, ctx: TurnContext, client: MediaClient | None = None) -> list[str]:
    """Install the media tools in AIDM's ToolRegistry, replacing AIDM's own tools
    of the same names and leaving its others; returns the names installed.

    `ctx` is the turn's TurnContext (one per turn); `client` a shared
    MediaClient (one per process is best: it keeps its connections warm).
    """
    if client is not None:
        ctx.client = client
    settings = ctx.settings
    definition, param = _shapes(registry)
    lock = threading.Lock()
    names = []
    for spec in tool_specs(settings):
        _remove(registry, spec.name)
        registry.register(_definition(spec, ctx, lock, definition, param))
        names.append(spec.name)
    return names
