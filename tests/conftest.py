"""How `make test` shares the suite among pytest-xdist workers.

Each worker is a process of its own with its own session: the integration
files it runs share one local stack it starts (tests/integration/conftest.py),
the browser files one more. So the unit of work is a file (a module fixture
such as test_bundle's clean venv is built once), except that every browser
file goes to one worker: a stack with Chromium costs half a minute to start.

Work is handed out in the order below (`--dist loadgroup
--no-loadscope-reorder`), longest first, so the last file to finish is a
short one: the files that wait out real pacing windows and deadlines, then the
rest of the integration and browser files, then the unit files, which fill the
gaps. Without xdist (`pytest -p no:xdist`, or one file) none of this matters.
"""

from __future__ import annotations

import pytest

# The files whose tests wait longest (`make test` prints --durations=15),
# longest first. A file not listed here still runs; it is only handed out later.
LONGEST_FIRST = (
    "tests/integration/test_burst.py",
    "tests/integration/test_quota.py",
    "tests/integration/test_bench.py",
    "tests/e2e",
    "tests/integration/test_paced_starts.py",
    "tests/integration/test_paced_models.py",
    "tests/integration/test_clip_states.py",
    "tests/integration/test_local_stack.py",
    "tests/integration/test_faults.py",
    "tests/integration/test_deadline.py",
    "tests/integration/test_logs.py",
    "tests/integration/test_bundle.py",
)


def group_of(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return "tests/e2e" if path.startswith("tests/e2e/") else path


def rank(group: str) -> tuple[int, int]:
    if group in LONGEST_FIRST:
        return (0, LONGEST_FIRST.index(group))
    return (1 if group.startswith(("tests/integration", "tests/e2e")) else 2, 0)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(group_of(item.nodeid)))
    # A stable sort: within a file, tests keep the order they are written in.
    items.sort(key=lambda item: rank(group_of(item.nodeid)))
