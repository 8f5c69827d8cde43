"""Players' budgets on the real stack (docs/interface.md section 10.3): a
player's lifetime cap next to each session's, exact under a burst from five
campaigns and under duplicates; the host's CLI sets and reads it. (The route's
answers and errors: tests/integration/test_openapi_answers.py.)"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest

from shared.client import MediaClient
from shared.core.settings import get_settings
from shared.domain.ids import asset_id_for
from shared.store import ledger, players
from shared.store.connections import publisher, topic_path
from tests.integration.helpers import calls, cutscene, enable, fault, publish, wait_terminal
from tests.integration.test_cli import run, run_all, stack_env

pytestmark = pytest.mark.integration

# A 4 s cutscene costs 0.067 (still) + 4 * 0.15 (clip) = 0.667.
STILL, CUTSCENE = 67_000, 667_000


def test_a_player_short_of_the_clip_gets_a_still_though_the_session_has_room(stack):
    enable(budget=5.0)
    MediaClient().set_player_budget("p1", 0.10)
    msg = cutscene(1, player_id="p1")
    publish(msg)
    doc = wait_terminal("c1", msg["request_id"])
    assert (doc["status"], doc["status_reason"]) == ("partial", "budget")
    assert calls(stack)["predictLongRunning"] == 0
    player, session = players.read_balance("p1"), ledger.read_balance("c1", "s1")
    assert (player.spent_micros, player.reserved_micros, player.remaining_micros) == (
        STILL,
        0,
        100_000 - STILL,
    )
    assert (session.spent_micros, session.reserved_micros) == (STILL, 0)


class Watch:
    """Reads the player's book over and over while a burst runs: spent +
    reserved must stay within its cap at every read, not only at the end."""

    def __init__(self, player_id: str) -> None:
        self.player_id, self.reads, self.over = player_id, 0, []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.is_set():
            b = players.read_balance(self.player_id)
            self.reads += 1
            if b.cap_micros is not None and b.spent_micros + b.reserved_micros > b.cap_micros:
                self.over.append(b)
            time.sleep(0.1)

    def __enter__(self) -> Watch:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()


def test_a_burst_of_50_from_five_campaigns_charges_exactly_the_players_cap(stack):
    # 2.10 buys three cutscenes, then 0.099 buys one still and nothing more,
    # whichever campaigns the burst's winners are in: each session's 5.00
    # never binds, the player's cap does.
    campaigns = [f"c{n}" for n in range(5)]
    for c in campaigns:
        enable(c, budget=5.0)
    MediaClient().set_player_budget("p1", 2.10)
    messages = [
        cutscene(n, campaign_id=campaigns[n % 5], session_id=f"s{n % 2}", player_id="p1")
        for n in range(50)
    ]
    topic = topic_path(get_settings().MEDIA_REQUESTS_TOPIC)
    started = time.monotonic()
    with Watch("p1") as watch:
        futures = [publisher().publish(topic, json.dumps(m).encode()) for m in messages]
        for f in futures:
            f.result(timeout=30)
        docs = [
            wait_terminal(m["campaign_id"], m["request_id"], 120 - (time.monotonic() - started))
            for m in messages
        ]
    drained = time.monotonic() - started
    outcome = Counter((d["status"], d["status_reason"]) for d in docs)
    assert outcome == {
        ("complete", None): 3,
        ("partial", "budget"): 1,
        ("rejected", "budget"): 46,
    }, outcome
    assert watch.over == [] and watch.reads > 0
    player = players.read_balance("p1")
    assert (player.spent_micros, player.reserved_micros) == (3 * CUTSCENE + STILL, 0)
    # Each session exact, and the player's charges are the sessions' charges.
    # Only this burst's keys count: a straggling delivery of an earlier test
    # may land in a session of the same name after the wipe.
    ours = {d["asset_id"] for d in docs}
    session_charges: dict[str, int] = {}
    for c in campaigns:
        for s in ("s0", "s1"):
            holds, charges = ledger.held_maps(ledger.ledger_ref(c, s).get().to_dict())
            assert sum(holds.values()) + sum(charges.values()) <= 5_000_000, (c, s)
            assert not {k for k in holds if k.split(":")[0] in ours}, (c, s)
            mine = {k: v for k, v in charges.items() if k.split(":")[0] in ours}
            spent_on = [d for d in docs if (d["campaign_id"], d["session_id"]) == (c, s)]
            assert sum(mine.values()) == round(sum(d["cost_usd"] for d in spent_on) * 1e6)
            session_charges.update(mine)
    assert ledger.held_maps(players.player_ref("p1").get().to_dict()) == ({}, session_charges)
    counted = calls(stack)
    assert (counted["generateContent"], counted["predictLongRunning"]) == (4, 3)
    print(f"\nplayer burst of 50 over 5 campaigns: drained in {drained:.2f} s, {watch.reads} reads")


def test_duplicates_are_charged_once_and_a_failed_clip_released_in_both_books(stack):
    enable(budget=5.0)
    MediaClient().set_player_budget("p1", 3.0)
    msg = cutscene(7, player_id="p1")
    for _ in range(4):
        publish(msg)
    doc = wait_terminal("c1", msg["request_id"])
    assert doc["status"] == "complete"
    # Then a request whose clip Veo fails, delivered twice: its still is
    # charged once, its clip's hold released from the session and the player.
    fault(stack, "predictLongRunning", "op_error", 1)
    failing = cutscene(8, player_id="p1", session_id="s2")
    publish(failing)
    publish(failing)
    end = wait_terminal("c1", failing["request_id"])
    assert (end["status"], end["status_reason"]) == ("partial", "video_failed")
    time.sleep(1.0)  # the stragglers land, and must change nothing
    aid, failed = asset_id_for(msg["request_id"]), asset_id_for(failing["request_id"])
    holds, charges = ledger.held_maps(players.player_ref("p1").get().to_dict())
    assert (holds, charges) == (
        {},
        {f"{aid}:image": STILL, f"{aid}:video": CUTSCENE - STILL, f"{failed}:image": STILL},
    )
    assert ledger.read_balance("c1", "s1").spent_micros == CUTSCENE
    assert ledger.read_balance("c1", "s2").spent_micros == STILL
    assert calls(stack)["predictLongRunning"] >= 2


def test_the_hosts_cli_sets_and_reads_a_players_budget(stack):
    env = stack_env(stack)
    unknown, done = run_all(
        [["cost", "--player", "nobody"], ["player-budget", "--user", "alice", "--cap", "2.5"]], env
    )
    assert unknown.returncode == 0, unknown.stderr
    assert json.loads(unknown.stdout) == {
        "cap_usd": None,
        "spent_usd": 0.0,
        "reserved_usd": 0.0,
        "remaining_usd": None,
    }
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["cap_usd"] == 2.5
    read = run(["cost", "--player", "alice"], env)
    assert json.loads(read.stdout) == {
        "cap_usd": 2.5,
        "spent_usd": 0.0,
        "reserved_usd": 0.0,
        "remaining_usd": 2.5,
    }
