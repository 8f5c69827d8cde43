"""The integration tests' stack (tests/conftest.py's `local_stack`, one a
worker), wiped before each test.

The stack is the real thing: Firestore and Pub/Sub emulators, fake-gcs-server,
the media emulator and the functions under functions-framework, all on free
ports and stopped by PID at the end.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def stack(local_stack):
    local_stack.wipe()
    yield local_stack
