"""One local stack for the whole integration run, wiped before each test.

The stack is the real thing: Firestore and Pub/Sub emulators, fake-gcs-server,
the media emulator and the functions under functions-framework, all on free
ports and stopped by PID at the end.
"""

from __future__ import annotations

import pytest

from tests.stack_session import running_stack


@pytest.fixture(scope="session")
def local_stack():
    # Short leases and deadlines would make tests flaky; the defaults stay.
    # The sweep of overdue Veo operations is fast here (stack_session.FAST_SWEEP).
    with running_stack() as stack:
        yield stack


@pytest.fixture
def stack(local_stack):
    local_stack.wipe()
    yield local_stack
