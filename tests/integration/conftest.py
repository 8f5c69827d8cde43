"""One local stack for the whole integration run, wiped before each test.

The stack is the real thing: Firestore and Pub/Sub emulators, fake-gcs-server,
the media emulator and the functions under functions-framework, all on free
ports and stopped by PID at the end.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra.local.stack import LocalStack
from shared.clients import reset_all

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def local_stack():
    # Short leases and deadlines would make tests flaky; the defaults stay.
    stack = LocalStack.start(ROOT, extra_env={"MEDIA_POLL_BUDGET_S": "120"})
    saved = dict(os.environ)
    os.environ.update(stack.env)
    reset_all()
    try:
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_all()


@pytest.fixture
def stack(local_stack):
    local_stack.wipe()
    yield local_stack
