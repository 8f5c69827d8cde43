"""How `make test` shares the suite among pytest-xdist workers, and the
stack each worker starts.

Each worker is a process of its own with its own session, so each starts one
local stack (`local_stack` below) for the integration and browser files it
runs. The unit of work is a file (a module fixture such as test_bundle's
clean venv is built once), except that every browser file goes to the same
worker: Chromium and the player bundle are set up once.

Work is handed out in the order below (`--no-loadscope-reorder`), longest
first, so the last file to finish is a short one: the files that wait out
real pacing windows and deadlines, then the rest of the integration and
browser files, then the unit files, which fill the gaps. Without xdist
(`pytest -p no:xdist`, or one file) only the order and the stack remain.
"""

from __future__ import annotations

import pytest

from tests.stack_session import running_stack

# The files whose tests wait longest (`make test` prints --durations=15),
# longest first. A file not listed here still runs; it is only handed out later.
LONGEST_FIRST = (
    "tests/integration/test_burst.py",
    "tests/integration/test_quota.py",
    "tests/integration/test_bench.py",
    "tests/integration/test_local_stack.py",
    "tests/e2e",
    "tests/integration/test_paced_starts.py",
    "tests/integration/test_paced_models.py",
    "tests/integration/test_clip_states.py",
    "tests/integration/test_faults.py",
    "tests/integration/test_deadline.py",
    "tests/integration/test_bundle.py",
)


def group_of(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return "tests/e2e" if path.startswith("tests/e2e/") else path


def rank(group: str) -> tuple[int, int]:
    if group in LONGEST_FIRST:
        return (0, LONGEST_FIRST.index(group))
    return (1 if group.startswith(("tests/integration", "tests/e2e")) else 2, 0)


@pytest.hookimpl(optionalhook=True)  # a hook of xdist's; `-p no:xdist` runs without it
def pytest_xdist_make_scheduler(config, log):
    # xdist's own `--dist loadgroup` cannot be used: xdist 3.8 names a group
    # by setting item._nodeid, which pytest 9 no longer reads (nodeid is _id).
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return ByGroup(config, log)


def pytest_collection_modifyitems(config, items):
    # A stable sort: within a file, tests keep the order they are written in.
    items.sort(key=lambda item: rank(group_of(item.nodeid)))


@pytest.fixture(scope="session")
def local_stack():
    """One stack a worker, for its integration and its browser tests.

    Short leases and deadlines would make tests flaky; the defaults stay.
    The sweep of overdue Veo operations is fast here (stack_session.FAST_SWEEP).
    The stack's own full-sweep timer waits an hour: tests that count what one
    sweep closes must not race it (test_deadline.py tests the timer itself).
    Started on first use, so a run of unit tests alone starts none."""
    with running_stack({"MEDIA_SWEEP_EVERY_S": "3600"}) as stack:
        yield stack
