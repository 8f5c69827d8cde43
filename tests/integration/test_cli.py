"""`cutscenes` tells the truth: every subcommand with --help, with bad arguments,
with no stack, against a dead stack and an unknown campaign; `--wait`'s exit
codes; janitor's stdout. Each command runs as a user runs it, in its own
process, and each failure must be one line on stderr without a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from infra.local.plan import PARTS
from infra.local.procs import free_port
from shared.client import configure_campaign
from shared.domain.ids import asset_id_for
from tests.integration.helpers import emulator, wait_terminal

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SUBCOMMANDS = [
    "local",
    "configure",
    "trigger",
    "cost",
    "gallery",
    "spend",
    "janitor",
    "regenerate",
    "animate",
    "hide",
    "preflight",
    "player-budget",
]


# A valid invocation of each subcommand that needs the stack, for campaign c.
def valid(c: str) -> dict[str, list[str]]:
    return {
        "configure": ["configure", "--campaign", c, "--budget", "1"],
        "trigger": [
            "trigger",
            "--campaign",
            c,
            "--session",
            "s1",
            "--turn",
            "1",
            "--kind",
            "npc_portrait",
            "--subject",
            "Mireille",
            "--image-prompt",
            "a captain",
        ],
        "cost": ["cost", "--campaign", c, "--session", "s1"],
        "gallery": ["gallery", "--campaign", c],
        "spend": ["spend", "--campaign", c],
        "janitor": ["janitor"],
        "regenerate": ["regenerate", "--campaign", c, "--asset", "a1", "--image-prompt", "x"],
        "animate": ["animate", "--campaign", c, "--asset", "a1"],
        "hide": ["hide", "--campaign", c, "--asset", "a1"],
    }


def no_stack_env(home: Path) -> dict[str, str]:
    """A user's shell with neither a local stack nor Google credentials. The
    metadata server is pointed at a closed local port: the check for it must
    not send traffic off this machine."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CUTSCENES_NO_LOCAL": "1",
        "CUTSCENES_STATE_DIR": str(home / "state"),
        "NO_GCE_CHECK": "true",
        "GCE_METADATA_HOST": "127.0.0.1:9",
        "GCE_METADATA_IP": "127.0.0.1:9",
        "PYTHONPATH": str(ROOT),
    }


def run(argv: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cutscenes.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_all(argvs: list[list[str]], env: dict[str, str]) -> list[subprocess.CompletedProcess]:
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda a: run(a, env), argvs))


def assert_one_line_error(done: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    assert done.returncode == code, (done.args, done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and "error:" in lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert done.stdout == ""


def stack_env(stack) -> dict[str, str]:
    return {**os.environ, **stack.env, "CUTSCENES_NO_LOCAL": "1"}


def test_every_subcommand_has_help_with_examples(tmp_path):
    done = run_all(
        [[name, "--help"] for name in SUBCOMMANDS] + [["--help"]], no_stack_env(tmp_path)
    )
    for name, answer in zip([*SUBCOMMANDS, "top"], done, strict=True):
        assert answer.returncode == 0 and answer.stderr == "", (name, answer.stderr)
        if name != "top":
            assert "examples:" in answer.stdout and f"cutscenes {name}" in answer.stdout
    assert "exit codes" in done[-1].stdout.lower()


def test_bad_arguments_are_one_line_exit_2(tmp_path):
    bad = [
        ["gallery", "--campaign", "c1", "--limit", "-1"],
        ["configure", "--campaign", "c1", "--budget", "-5"],
        ["configure", "--campaign", "c1", "--owner", "x", "--remove-member", "x"],
        [
            "trigger",
            "--campaign",
            "c1",
            "--session",
            "s1",
            "--turn",
            "x",
            "--kind",
            "cutscene",
            "--image-prompt",
            "p",
        ],
        [
            "trigger",
            "--campaign",
            "c1",
            "--session",
            "s1",
            "--turn",
            "1",
            "--kind",
            "cutscene",
            "--image-prompt",
            "p",
        ],
        ["cost", "--campaign", "bad id", "--session", "s1"],
        ["spend", "--campaign", "c1", "--by", "week"],
        ["local", "logs", "--request-id", "no"],
        ["regenerate", "--campaign", "c1", "--asset", "a/1"],
        ["regenerate", "--campaign", "c1", "--asset", "a1", "--image-prompt", " "],
        ["animate", "--campaign", "c1"],
        ["hide", "--campaign", "c1", "--asset", "a1", "--wait"],
        ["janitor", "--now"],
    ]
    for done in run_all(bad, no_stack_env(tmp_path)):
        assert_one_line_error(done, 2, "(see cutscenes")


def test_no_stack_and_no_credentials_says_what_to_do(tmp_path):
    commands = list(valid("c1").values()) + [["local", "logs"]]
    for done in run_all(commands, no_stack_env(tmp_path)):
        assert_one_line_error(done, 1, "cutscenes local up")


def test_a_stopped_stack_is_named_not_waited_on(tmp_path):
    dead = f"127.0.0.1:{free_port()}"
    env = {**no_stack_env(tmp_path), "FIRESTORE_EMULATOR_HOST": dead, "PUBSUB_EMULATOR_HOST": dead}
    for done in run_all(list(valid("c1").values()), env):
        assert_one_line_error(done, 1, dead, "cutscenes local up")


def test_an_unknown_campaign_is_an_error_not_a_rejection(stack):
    commands = [v for k, v in valid("nope").items() if k not in ("configure", "janitor")]
    for done in run_all(commands, stack_env(stack)):
        assert_one_line_error(done, 1, "'nope'")
    from shared.store.assets import load

    # Nothing was published: no rejected asset appeared for the typo.
    assert load("nope", asset_id_for("req-never")) is None


def test_a_gallery_cursor_that_names_no_asset_is_refused(stack):
    """Not the first page again, silently: a bad argument, exit 2."""
    configure_campaign("c1", enabled=True, budget_usd=5, members=["alice"])
    [done] = run_all([["gallery", "--campaign", "c1", "--cursor", "garbage"]], stack_env(stack))
    assert_one_line_error(done, 2, "--cursor 'garbage' is not a next_cursor", "(see cutscenes")


def wait_for(stack, request_id: str, *extra: str) -> subprocess.CompletedProcess:
    return run(
        [
            "trigger",
            "--campaign",
            "c1",
            "--session",
            "s1",
            "--turn",
            "1",
            "--kind",
            "cutscene",
            "--type",
            "action_climax",
            "--image-prompt",
            "a duel at dawn",
            "--motion-prompt",
            "slow orbit",
            "--duration",
            "4",
            "--request-id",
            request_id,
            "--wait",
            *extra,
        ],
        stack_env(stack),
    )


def test_wait_exit_codes_and_reasons(stack):
    configure_campaign("c1", enabled=True, budget_usd=5, members=["alice"])
    emulator(
        stack,
        "POST",
        "/_emulator/faults",
        {"method": "predictLongRunning", "kind": "op_error", "count": 10},
    )
    # The operation fails after 8 s of "rendering" (faults wait for the latency).
    emulator(stack, "POST", "/_emulator/latency", {"video_s": 8})
    partial = wait_for(stack, "req-cli-partial")
    assert partial.returncode == 3, partial.stderr
    assert json.loads(partial.stdout)["status"] == "partial"
    assert "partial (video_failed)" in partial.stderr
    # Progress while Veo works, not silence: the failed operation writes
    # nothing and is noticed by the janitor's sweep after it ends (8 s).
    assert "animating: Veo is making the clip, 5 s so far" in partial.stderr

    emulator(stack, "DELETE", "/_emulator/faults")
    emulator(
        stack,
        "POST",
        "/_emulator/faults",
        {"method": "generateContent", "kind": "blocked", "count": 10},
    )
    failed = wait_for(stack, "req-cli-failed")
    assert failed.returncode == 4, failed.stderr
    assert "failed (image_blocked)" in failed.stderr

    emulator(stack, "DELETE", "/_emulator/faults")
    emulator(stack, "POST", "/_emulator/latency", {"image_s": 0.1, "video_s": 5})
    gave_up = wait_for(stack, "req-cli-slow", "--timeout", "1")
    assert gave_up.returncode == 1 and gave_up.stdout == ""
    assert "gave up" in gave_up.stderr.splitlines()[-1]
    # Let it finish here: a clip written after the next test's wipe would be
    # that test's stray object.
    assert wait_terminal("c1", "req-cli-slow", timeout=120)["status"] == "complete"


def test_janitor_prints_only_json_on_stdout(stack):
    done = run(["janitor"], stack_env(stack))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"closed": 0}
    # Its log line went to stderr, as JSON, and nothing else did.
    assert [json.loads(x)["event"] for x in done.stderr.splitlines()] == ["janitor_sweep"]


def test_local_logs_merges_one_requests_lines(stack, tmp_path):
    """The session's stack is not the detached one: point `local logs` at its
    log directory through a state file of the same shape."""
    from infra.local.logs import show

    configure_campaign("c1", enabled=True, budget_usd=5, members=["alice"])
    emulator(
        stack,
        "POST",
        "/_emulator/faults",
        {"method": "generateContent", "kind": "blocked", "count": 1},
    )
    done = wait_for(stack, "req-cli-logs")
    assert done.returncode == 0, done.stderr
    (tmp_path / "stack.json").write_text(json.dumps({"log_dir": str(stack.log_dir)}))
    import io

    out = io.StringIO()
    show(tmp_path, request_id="req-cli-logs", as_json=True, out=out)
    records = [json.loads(x) for x in out.getvalue().splitlines()]
    sources = {r["source"] for r in records}
    assert {"render_still", "animate_still"} <= sources, records
    stamps = [r["timestamp"] for r in records]
    assert stamps == sorted(stamps)
    aid = asset_id_for("req-cli-logs")
    assert all(r.get("request_id") == "req-cli-logs" or r.get("asset_id") == aid for r in records)
    assert set(PARTS) >= sources
