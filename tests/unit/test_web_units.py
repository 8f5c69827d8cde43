"""The web player's own unit tests (web/test, node's test runner) inside
`make test`: the parts that need no browser, such as the spend chart's markup."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"


def test_the_web_players_node_tests_pass():
    node = shutil.which("node")
    assert node, "node is not installed (infra/bootstrap.sh installs it)"
    files = sorted(str(p.relative_to(WEB)) for p in (WEB / "test").glob("*.test.js"))
    assert files, "no web/test/*.test.js"
    done = subprocess.run(
        [node, "--test", "--test-reporter=tap", *files],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout
