"""The state file (`<state_dir>/stack.json`): how `down`, `status` and other
processes (tests, the CLI, the keeper) find a running stack's PIDs, ports,
env and logs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.local.plan import StackError

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

STATE_FILE = "stack.json"
STATE_VERSION = 1


def write_state(stack: LocalStack, ready: bool = True) -> None:
    """Record the stack in its state dir, atomically (a reader never sees half)."""
    assert stack.state_dir is not None
    stack.state_dir.mkdir(parents=True, exist_ok=True)
    state = {
        "version": STATE_VERSION,
        "root": str(stack.root),
        "mode": stack.mode,
        "ready": ready,
        "owner_pid": os.getpid(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "env": stack.env,
        "function_env": stack.function_env,
        "log_dir": str(stack.log_dir),
        "timings": stack.timings,
        "procs": {name: p.to_json() for name, p in stack.procs.items()},
        "keeper": stack.keeper.to_json() if stack.keeper else None,
        "forkserver": (
            {"name": stack.forkserver_name, "proc": stack.forkserver.to_json()}
            if stack.forkserver
            else None
        ),
    }
    path = stack.state_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(path)


def read_state(state_dir: Path) -> dict[str, Any]:
    """The state recorded in state_dir (FileNotFoundError if none)."""
    state = json.loads((state_dir / STATE_FILE).read_text())
    if state.get("version") != STATE_VERSION:
        raise StackError(f"{state_dir / STATE_FILE}: unknown version {state.get('version')}")
    return state
