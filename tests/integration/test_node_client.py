"""The Node client (clients/node) inside `make test`: its own tests, run with
Node's test runner against this local stack's Pub/Sub emulator, and then the
pipeline's answer to the request one of them published."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid

from shared.client.media_client import MediaClient
from shared.core.settings import get_settings
from shared.domain.ids import asset_id_for
from shared.store import players
from tests.integration.helpers import enable, wait_terminal
from tests.stack_session import ROOT

NODE_DIR = ROOT / "clients" / "node"
COUNTS_RE = re.compile(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$", re.M)


def test_the_node_clients_tests_pass_and_the_pipeline_takes_its_request(stack):
    node = shutil.which("node")
    assert node, "node is not installed (infra/bootstrap.sh installs it)"
    assert (NODE_DIR / "node_modules" / "@google-cloud" / "pubsub").is_dir(), (
        "clients/node has no node_modules: run infra/bootstrap.sh"
    )
    files = sorted(str(p.relative_to(NODE_DIR)) for p in (NODE_DIR / "test").glob("*.test.js"))
    assert len(files) >= 3, files
    enable("c1")
    request_id = f"req-node-{uuid.uuid4().hex[:12]}"
    player_id = f"node-player-{uuid.uuid4().hex[:8]}"
    MediaClient().set_player_budget(player_id, "5.00")
    env = {
        **os.environ,
        **stack.env,
        "MEDIA_REQUESTS_TOPIC": get_settings().MEDIA_REQUESTS_TOPIC,
        "NODE_CLIENT_REQUEST_ID": request_id,
        "NODE_CLIENT_CAMPAIGN": "c1",
        "NODE_CLIENT_PLAYER": player_id,
    }
    run = subprocess.run(
        [node, "--test", "--test-reporter=tap", *files],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    report = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    counts = {k: int(v) for k, v in COUNTS_RE.findall(run.stdout)}
    assert counts["tests"] >= 90, report  # ~75 schema samples, HTTP and Pub/Sub tests
    assert counts["pass"] == counts["tests"], report
    assert counts["fail"] == counts["skipped"] == counts["todo"] == counts["cancelled"] == 0

    # What Node published, the pipeline made: the asset id is the one Node derived.
    doc = wait_terminal("c1", request_id, timeout=120)
    assert doc["asset_id"] == asset_id_for(request_id)
    assert (doc["status"], doc["kind"], doc["subject"]) == ("complete", "npc_portrait", "Mira")
    # ...and paid for it from the player's budget as well as the session's.
    assert doc["player_id"] == player_id
    book = players.read_balance(player_id)
    assert book.cap_micros == 5_000_000
    assert (book.spent_micros, book.reserved_micros) == (round(doc["cost_usd"] * 1e6), 0)
    assert book.spent_micros > 0
