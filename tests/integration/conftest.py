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
    # The stack's own full-sweep timer waits an hour: tests that count what one
    # sweep closes must not race it (test_deadline.py tests the timer itself).
    with running_stack({"MEDIA_SWEEP_EVERY_S": "3600"}) as stack:
        yield stack


@pytest.fixture
def stack(local_stack):
    local_stack.wipe()
    yield local_stack
