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
    # Overdue Veo operations (errors, blocks) are asked about after 3 s, not
    # a minute, so tests of them end quickly; the backoff stays exponential.
    with running_stack({"MEDIA_VIDEO_EXPECTED_S": "3", "MEDIA_VIDEO_EXPECTED_PER_S": "0",
                        "MEDIA_VIDEO_SWEEP_FIRST_S": "1", "MEDIA_VIDEO_SWEEP_MAX_S": "5"}
                       ) as stack:
        yield stack


@pytest.fixture
def stack(local_stack):
    local_stack.wipe()
    yield local_stack
