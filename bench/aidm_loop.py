"""AIDM's event loop while the media tools run (shared.aidm.register_tools).

AIDM runs tool handlers on its asyncio loop, which also serves every other
player. A heartbeat task ticks every millisecond while a scripted model turn
calls trigger_cutscene through an AIDM-shaped registry; the loop's lag is how
late a tick came. The same turn with the handler called synchronously on the
loop (what a plain function registered in AIDM would do) is the baseline.
Target: the loop never held for more than 20 ms by our handlers.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any

from bench.common import Table, summary
from shared.aidm import TurnContext, handle_function_call, register_tools
from shared.client import MediaClient, configure_campaign

TARGET_MS = 20.0


class Registry:
    """AIDM's ToolRegistry, as far as the ProductionAgent uses it."""

    def __init__(self) -> None:
        self.tools: dict[str, Any] = {}

    def register(self, tool: Any) -> None:
        self.tools[tool.name] = tool

    async def async_execute(self, name: str, args: dict[str, Any]) -> Any:
        result = self.tools[name].handler(**args)
        return await result if inspect.isawaitable(result) else result


async def _turn(call: Any) -> float:
    """Max loop lag in ms while `call()` runs one tool call."""
    worst = 0.0
    stop = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal worst
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            worst = max(worst, (time.perf_counter() - before) * 1000 - 1.0)

    task = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.005)
    await call()
    stop.set()
    await task
    return worst


def _args(i: int) -> dict[str, Any]:
    return {
        "cutscene_type": "emotional_peak",
        "image_prompt": f"rain on the bridge, take {i}",
        "motion_prompt": "camera holds",
    }


def run(table: Table, stack: Any, turns: int = 10) -> None:
    stack.wipe()
    configure_campaign("loop", enabled=True, budget_usd=5.0)  # each call reads and publishes
    client = MediaClient()
    client.warm()
    adapter, baseline = [], []
    for i in range(turns):
        ctx = TurnContext(campaign_id="loop", session_id=f"s{i}", turn_number=i, client=client)
        registry = Registry()
        register_tools(registry, ctx)
        adapter.append(
            asyncio.run(
                _turn(lambda r=registry, i=i: r.async_execute("trigger_cutscene", _args(i)))
            )
        )

        fresh = TurnContext(campaign_id="loop", session_id=f"b{i}", turn_number=i, client=client)

        async def blocking(c: TurnContext = fresh, i: int = i) -> Any:
            return handle_function_call({"name": "trigger_cutscene", "args": _args(i)}, c)

        baseline.append(asyncio.run(_turn(blocking)))
    a, b = summary(adapter), summary(baseline)
    table.add(
        "aidm loop lag",
        "register_tools max lag ms (worst turn)",
        a["max"],
        f"<= {TARGET_MS:.0f} ms",
        a["max"] <= TARGET_MS,
    )
    table.add("aidm loop lag", "register_tools lag ms p50", a["p50"])
    table.add("aidm loop lag", "sync handler on the loop max lag ms", b["max"])
    table.add("aidm loop lag", "sync handler on the loop lag ms p50", b["p50"])


if __name__ == "__main__":
    from bench.common import start_stack

    stack = start_stack()
    try:
        table = Table()
        run(table, stack)
        print(f"wrote {table.write('bench-aidm-loop')}")
    finally:
        stack.stop()
