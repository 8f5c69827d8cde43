"""AIDM's turn rows: only cutscenes, nothing until all are terminal, ordered
for AIDM's insert-after-the-turn, stable addresses that end in .png / .mp4."""

from __future__ import annotations

from shared.api.turn_rows import turn_rows

BASE = "https://api.example/media_api"


def doc(
    aid: str,
    kind: str = "cutscene",
    status: str = "complete",
    image: bool = True,
    video: bool = True,
    **over,
) -> dict:
    return {
        "asset_id": aid,
        "campaign_id": "c1",
        "kind": kind,
        "status": status,
        "cutscene_type": "power_awakening" if kind == "cutscene" else None,
        "image": {"uri": f"gs://bkt/media/c1/{aid}.png"} if image else None,
        "video": {"uri": f"gs://bkt/media/c1/{aid}.mp4"} if video else None,
        **over,
    }


def shown_by_aidm(rows: list[dict]) -> list[tuple[str, str]]:
    """AIDM inserts each row right after the turn's entry: the last listed shows first."""
    shown: list[tuple[str, str]] = []
    for row in rows:
        shown.insert(0, (row["id"], row["asset_type"]))
    return shown


def test_nothing_until_every_cutscene_of_the_turn_is_terminal():
    animating = doc("a2", status="animating", video=False)
    assert turn_rows([doc("a1"), animating], BASE) == []
    assert turn_rows([doc("a1", status="rendering_image", image=False, video=False)], BASE) == []


def test_portraits_and_locations_neither_show_nor_hold_the_turn_back():
    pending_portrait = doc("p1", "npc_portrait", "rendering_image", image=False, video=False)
    rows = turn_rows([pending_portrait, doc("a1"), doc("l1", "location_visual", video=False)], BASE)
    assert {r["id"] for r in rows} == {"a1"}
    assert all(
        r["cutscene_type"] == "power_awakening" and r["category"] == "cutscenes" for r in rows
    )


def test_aidm_shows_each_still_before_its_clip_oldest_cutscene_first():
    rows = turn_rows([doc("a1"), doc("a2", status="partial", video=False), doc("a3")], BASE)
    assert shown_by_aidm(rows) == [
        ("a1", "image"),
        ("a1", "video"),
        ("a2", "image"),
        ("a3", "image"),
        ("a3", "video"),
    ]
    assert {r["status"] for r in rows} == {"complete", "partial"}


def test_stable_addresses_that_aidms_viewer_recognises():
    rows = {r["asset_type"]: r for r in turn_rows([doc("a1")], BASE)}
    assert rows["image"]["file_url"] == f"{BASE}/campaigns/c1/media/a1/image.png"
    assert rows["video"]["file_url"] == f"{BASE}/campaigns/c1/media/a1/video.mp4"
    assert rows["video"]["file_url"].endswith(".mp4")
    assert set(rows["image"]) == {
        "id",
        "asset_type",
        "cutscene_type",
        "category",
        "file_url",
        "status",
    }
    # The same rows on every poll: AIDM de-duplicates on the whole URL.
    assert turn_rows([doc("a1")], BASE) == turn_rows([doc("a1")], BASE)


def test_failed_rejected_and_hidden_cutscenes_list_nothing_but_count_as_done():
    rows = turn_rows(
        [
            doc("f1", status="failed", image=False, video=False),
            doc("r1", status="rejected", image=False, video=False),
            doc("h1", hidden=True),
            doc("a1"),
        ],
        BASE,
    )
    assert {r["id"] for r in rows} == {"a1"}


def test_progressive_lists_unfinished_cutscenes_and_files_as_they_appear():
    docs = [
        doc("a1", status="queued", image=False, video=False),
        doc("a2", status="animating", video=False),
        doc("f1", status="failed", image=False, video=False),
    ]
    rows = turn_rows(docs, BASE, progressive=True)
    assert [
        (r["id"], r["asset_type"], r["status"], r["file_url"] is None) for r in reversed(rows)
    ] == [("a1", "image", "queued", True), ("a2", "image", "animating", False)]
