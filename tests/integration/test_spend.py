"""Owners and the spend report: `GET /campaigns/{cid}/spend` and `cutscenes spend`.

One real still goes through the pipeline (its charge is the ledger's real
one); other sessions' charges are written straight into their ledgers, with
amounts that only add up exactly in integer micro-dollars.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from shared.client import configure_campaign
from shared.store import ledger
from shared.store.connections import firestore_client
from tests.integration.helpers import cutscene, publish, wait_terminal
from tests.integration.test_media_api import assert_error, call

pytestmark = pytest.mark.integration


def seed_charges(campaign: str, session: str, charges: dict[str, tuple[int, datetime]]) -> None:
    """Settled charges in a session's ledger, and their assets' creation days."""
    camp = firestore_client().collection("campaigns").document(campaign)
    camp.collection("sessions").document(session).set(
        {
            "cap_micros": 10_000_000,
            "holds": {"held:image": 5},
            "charges": {f"{a}:image": m for a, (m, _) in charges.items()},
        }
    )
    for asset, (_, created) in charges.items():
        camp.collection("media").document(asset).set(
            {"asset_id": asset, "session_id": session, "created_at": created}
        )


@pytest.fixture
def books(stack):
    configure_campaign("c1", enabled=True, budget_usd=5, members=["alice", "bob"], owners=["gm"])
    still = cutscene(
        1, kind="npc_portrait", cutscene_type=None, motion_prompt=None, subject="Captain Mireille"
    )
    publish(still)
    asset = wait_terminal("c1", still["request_id"])
    assert asset["status"] == "complete" and asset["session_id"] == "s1"
    seed_charges(
        "c1",
        "s2",
        {
            "ax1": (123_457, datetime(2026, 3, 1, 23, 59, tzinfo=UTC)),
            "ax2": (1, datetime(2026, 3, 2, 0, 0, tzinfo=UTC)),
        },
    )
    seed_charges("c1", "s3", {"ax3": (100_000, datetime(2026, 3, 1, 8, tzinfo=UTC))})
    return stack, asset


def test_owner_reads_spend_by_session(books):
    stack, still = books
    real = ledger.read_balance("c1", "s1").spent_micros
    assert real > 0 and still["cost_usd"] == real / 1e6
    answer = call(stack, "/campaigns/c1/spend", user="gm")
    assert answer.status == 200, answer.raw
    assert answer.json == {
        "rows": [
            {"key": "s1", "spent_usd": real / 1e6, "assets": 1},
            {"key": "s2", "spent_usd": 0.123458, "assets": 2},
            {"key": "s3", "spent_usd": 0.1, "assets": 1},
        ],
        "total_usd": (real + 223_458) / 1e6,
    }
    assert call(stack, "/campaigns/c1/spend?by=session", user="gm").json == answer.json


def test_owner_reads_spend_by_day(books):
    stack, still = books
    real = ledger.read_balance("c1", "s1").spent_micros
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    answer = call(stack, "/campaigns/c1/spend?by=day", user="gm")
    assert answer.status == 200, answer.raw
    assert answer.json["rows"] == [
        {"key": "2026-03-01", "spent_usd": 0.223457, "assets": 2},
        {"key": "2026-03-02", "spent_usd": 0.000001, "assets": 1},
        {"key": today, "spent_usd": real / 1e6, "assets": 1},
    ]
    assert answer.json["total_usd"] == (real + 223_458) / 1e6


def test_only_owners_read_the_report(books):
    stack, _ = books
    assert_error(call(stack, "/campaigns/c1/spend", user="alice"), 403)  # member, not owner
    assert_error(call(stack, "/campaigns/c1/spend", user="mallory"), 403)  # not a member
    assert_error(call(stack, "/campaigns/c1/spend", user=None), 401)
    # An owner who is no longer a member has no rights left.
    firestore_client().collection("campaigns").document("c1").update(
        {"members": ["alice", "bob"], "owners": ["gm", "carol"]}
    )
    assert_error(call(stack, "/campaigns/c1/spend", user="carol"), 403)


def test_bad_ids_and_unknown_campaign(books):
    stack, _ = books
    assert_error(call(stack, "/campaigns/c%2F1/spend", user="gm"), 400)
    assert_error(call(stack, "/campaigns/" + "x" * 129 + "/spend", user="gm"), 400)
    assert_error(call(stack, "/campaigns/c1/spend?by=week", user="gm"), 400)
    assert_error(call(stack, "/campaigns/nope/spend", user="gm"), 404)


def cli(stack, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **stack.env, "CUTSCENES_NO_LOCAL": "1"}
    return subprocess.run(
        [sys.executable, "-m", "cutscenes.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_spend_json_and_csv(books):
    stack, _ = books
    real = ledger.read_balance("c1", "s1").spent_micros
    out = cli(stack, "spend", "--campaign", "c1")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == call(stack, "/campaigns/c1/spend", user="gm").json
    out = cli(stack, "spend", "--campaign", "c1", "--by", "day", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["key", "spent_usd", "assets"]
    assert rows[1:3] == [["2026-03-01", "0.223457", "2"], ["2026-03-02", "0.000001", "1"]]
    assert rows[-1] == ["(total)", f"{(real + 223_458) / 1e6:.6f}", "4"]
    out = cli(stack, "spend", "--campaign", "nope")
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1
    assert "nope" in out.stderr and "Traceback" not in out.stderr


def test_configure_makes_an_owner_a_member_and_remove_member_takes_both(stack):
    doc = configure_campaign("c9", owners=["gm"], members=["alice"])
    assert doc["owners"] == ["gm"] and set(doc["members"]) == {"alice", "gm"}
    doc = configure_campaign("c9", remove_members=["gm"])
    assert doc["owners"] == [] and doc["members"] == ["alice"]
    doc = configure_campaign("c9", owners=["alice"], remove_owners=[])
    assert doc["owners"] == ["alice"]
    doc = configure_campaign("c9", remove_owners=["alice"])
    assert doc["owners"] == [] and doc["members"] == ["alice"]
    with pytest.raises(ValueError):
        configure_campaign("c9", owners=["x"], remove_members=["x"])


def test_concurrent_configures_lose_no_member(stack):
    """configure reads and writes the campaign in one guarded write: ten
    backends adding ten different members at once keep all ten."""
    from concurrent.futures import ThreadPoolExecutor

    configure_campaign("c8", enabled=True)
    with ThreadPoolExecutor(10) as pool:
        list(
            pool.map(
                lambda i: configure_campaign(
                    "c8", members=[f"m{i}"], owners=[f"o{i}"] if i % 2 else None
                ),
                range(10),
            )
        )
    doc = firestore_client().collection("campaigns").document("c8").get().to_dict()
    assert set(doc["members"]) == {f"m{i}" for i in range(10)} | {f"o{i}" for i in (1, 3, 5, 7, 9)}
    assert set(doc["owners"]) == {f"o{i}" for i in (1, 3, 5, 7, 9)}
    assert doc["media_settings"]["enabled"] is True
