"""register_tools against a registry shaped like AIDM's (src/llm/tools.py):
ToolDefinition with a ToolParam list and a handler called with keywords."""

from __future__ import annotations

import asyncio
import inspect
import threading
from dataclasses import dataclass, field
from typing import Any

from shared.aidm import MEDIA_TOOLS, TurnContext, register_tools
from tests.unit.test_aidm import FakeClient, context


@dataclass
class ToolParam:
    name: str
    type: str
    description: str
    required: bool = True


@dataclass
class ToolDefinition:
    name: str
    description: str
    parameters: list[ToolParam] = field(default_factory=list)
    handler: Any = None


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, ToolDefinition] = {}

    def register(self, tool: ToolDefinition) -> None:
        assert isinstance(tool, ToolDefinition)  # AIDM's own class, not a look-alike
        assert all(isinstance(p, ToolParam) for p in tool.parameters)
        self._tools[tool.name] = tool

    async def async_execute(self, name: str, args: dict[str, Any]) -> Any:
        result = self._tools[name].handler(**args)
        return await result if inspect.isawaitable(result) else result


def aidm_registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(ToolDefinition("get_active_quests", "quests", [], lambda: "none"))
    registry.register(ToolDefinition("trigger_cutscene", "AIDM's own", [], lambda **_: "old"))
    return registry


def test_installs_the_media_tools_replacing_aidms_and_keeping_the_others():
    registry = aidm_registry()
    names = register_tools(registry, context(FakeClient()))
    assert tuple(names) == MEDIA_TOOLS
    assert set(registry._tools) == {"get_active_quests", *MEDIA_TOOLS}
    cutscene = registry._tools["trigger_cutscene"]
    assert cutscene.description != "AIDM's own"
    assert [(p.name, p.type, p.required) for p in cutscene.parameters] == [
        ("cutscene_type", "str", True),
        ("image_prompt", "str", True),
        ("motion_prompt", "str", True),
        ("characters", "str", False),
        ("mood", "str", False),
    ]
    assert "action_climax" in cutscene.parameters[0].description
    assert all(
        inspect.iscoroutinefunction(t.handler)
        for n, t in registry._tools.items()
        if n in MEDIA_TOOLS
    )


def test_handlers_answer_dicts_off_the_loop_thread():
    client = FakeClient()
    threads: list[str] = []
    publish = client.publish

    def spying_publish(message: dict[str, Any]) -> Any:
        threads.append(threading.current_thread().name)
        return publish(message)

    client.publish = spying_publish  # type: ignore[method-assign]
    registry = aidm_registry()
    ctx = context(client, party={"Rei": "blue hair"})
    register_tools(registry, ctx)

    async def turn() -> list[Any]:
        return [
            await registry.async_execute(
                "trigger_cutscene",
                {
                    "cutscene_type": "power_awakening",
                    "image_prompt": "Rei ignites",
                    "motion_prompt": "push in",
                    "characters": "Rei, Captain Mireille",
                },
            ),
            await registry.async_execute("generate_model_sheet", {"character_name": "Rei"}),
            await registry.async_execute("generate_npc_portrait", {"npc_name": "Nobody"}),
        ]

    queued, sheet, refused = asyncio.run(turn())
    assert queued["status"] == "queued" and sheet["status"] == "queued"
    assert refused["status"] == "refused" and isinstance(refused["error"], str)
    assert client.messages[0]["characters"] == ["Rei", "Captain Mireille"]
    assert threads and all(name != threading.main_thread().name for name in threads)


def test_handlers_never_raise_into_the_turn():
    class Exploding(FakeClient):
        def remaining_budget(self, campaign_id: str, session_id: str) -> Any:
            raise RuntimeError("firestore is on fire")

    registry = aidm_registry()
    register_tools(
        registry, TurnContext(campaign_id="c1", session_id="s1", turn_number=1), client=Exploding()
    )  # type: ignore[arg-type]
    answer = asyncio.run(
        registry.async_execute(
            "trigger_cutscene",
            {"cutscene_type": "plot_twist", "image_prompt": "x", "motion_prompt": "y"},
        )
    )
    assert answer["status"] == "failed" and isinstance(answer["error"], str)


def test_a_registry_without_aidms_classes_gets_look_alikes():
    class Bare:
        def __init__(self) -> None:
            self.tools: list[Any] = []

        def register(self, tool: Any) -> None:
            self.tools.append(tool)

    bare = Bare()
    bare.__class__.__module__ = "nowhere_in_particular"
    assert register_tools(bare, context(FakeClient())) == list(MEDIA_TOOLS)
    assert {t.name for t in bare.tools} == set(MEDIA_TOOLS)
    assert all(hasattr(t, "parameters") and hasattr(t, "handler") for t in bare.tools)
