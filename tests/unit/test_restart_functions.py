"""LocalStack.restart_functions without processes: what it stops, starts and
records (the stack itself runs it in tests/integration/test_local_stack.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from infra.local import procs, readiness
from infra.local import stack as stack_module
from infra.local.procs import Proc
from infra.local.stack import LocalStack

NAMES = ("render_still", "janitor", "media_api")


class FakeLauncher:
    def __init__(self) -> None:
        self.spawned: list[tuple[str, int, dict[str, str]]] = []
        self.next_pid = 1000

    def spawn_function(self, name: str, port: int, env: dict[str, str]) -> Proc:
        self.spawned.append((name, port, env))
        self.next_pid += 1
        return Proc(name, self.next_pid, port, "log", env=env)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    stopped: list[list[str]] = []
    waiting: list[str] = []
    launcher = FakeLauncher()
    both_waiting = threading.Barrier(2, timeout=5)

    def wait_ready(name: str, proc: Proc) -> None:
        waiting.append(name)
        if proc.env.get("MEET") and name in ("render_still", "janitor"):
            both_waiting.wait()  # each waits for the other: side by side, or a timeout

    monkeypatch.setattr(procs, "stop_many", lambda items: stopped.append([p.name for p in items]))
    monkeypatch.setattr(procs, "refresh_identity", lambda proc: None)
    monkeypatch.setattr(readiness, "wait_ready", wait_ready)
    monkeypatch.setattr(stack_module.LocalStack, "launcher", property(lambda self: launcher))
    running = {n: Proc(n, 10 + i, 20000 + i, "log") for i, n in enumerate(NAMES)}
    stack = LocalStack(tmp_path, running, {}, {"BASE": "1"}, tmp_path)
    return stack, launcher, stopped, waiting


def test_several_are_stopped_together_and_waited_for_side_by_side(fake) -> None:
    stack, launcher, stopped, waiting = fake
    t = time.monotonic()
    new = stack.restart_functions(("render_still", "janitor"), {"X": "1", "MEET": "1"})
    assert time.monotonic() - t < 5  # the two waits met: neither waited for the other's end
    assert stopped == [["render_still", "janitor"]]
    assert sorted(waiting) == ["janitor", "render_still"]
    assert [(n, port) for n, port, _ in launcher.spawned] == [
        ("render_still", 20000),
        ("janitor", 20001),
    ]
    for name in ("render_still", "janitor"):
        assert stack.procs[name] is new[name]
        assert new[name].env == {"BASE": "1", "X": "1", "MEET": "1"}
        assert stack.function_extra_env[name] == {"X": "1", "MEET": "1"}
    assert stack.procs["media_api"].pid == 12  # not named: left alone


def test_only_adds_env_for_one_and_a_plain_restart_drops_it(fake) -> None:
    stack, launcher, _, _ = fake
    new = stack.restart_functions(
        ("render_still", "janitor"), {"X": "1"}, only={"janitor": {"CRASH": "reserved"}}
    )
    assert new["janitor"].env == {"BASE": "1", "X": "1", "CRASH": "reserved"}
    assert new["render_still"].env == {"BASE": "1", "X": "1"}
    assert stack.function_extra_env["janitor"] == {"X": "1", "CRASH": "reserved"}
    plain = stack.restart_function("janitor")
    assert plain.env == {"BASE": "1"} and stack.function_extra_env["janitor"] == {}


def test_an_unknown_name_stops_nothing(fake) -> None:
    stack, _, stopped, _ = fake
    with pytest.raises(KeyError):
        stack.restart_functions(("render_still", "firestore"))
    assert stopped == []
