"""A local stack for a block of tests, with this process's clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.local.stack import LocalStack
from shared.clients import reset_all

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def running_stack(extra_env: dict[str, str] | None = None) -> Iterator[LocalStack]:
    stack = LocalStack.start(ROOT, extra_env=extra_env or {})
    try:
        with stack.environ():
            reset_all()  # clients built from here on talk to this stack
            yield stack
    finally:
        stack.stop()
        reset_all()
