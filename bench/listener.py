"""Firestore listeners in their own process, as players' browsers would be:
one watch per campaign on its media (the player's query), printing one JSON
line per change, stamped on arrival.

    python -m bench.listener CAMPAIGN [CAMPAIGN ...]

The scale benchmark once watched every campaign through one collection-group
query; its lag grew to 10 s over a run while the snapshots' read times stayed
within 0.2 s of the writes: the client rebuilding a 200-document snapshot on
every change fell behind, not the emulator. No player watches that query."""

from __future__ import annotations

import json
import sys
import threading
import time


def main(campaign_ids: list[str]) -> None:
    from shared.store.connections import firestore_client

    db = firestore_client()
    lock = threading.Lock()  # one line at a time from the watches' threads

    def on_change(_docs, changes, read_time) -> None:
        stamp = time.time()
        for change in changes:
            if change.type.name == "REMOVED":
                continue
            doc = change.document.to_dict() or {}
            line = json.dumps(
                {
                    "t": stamp,
                    "asset_id": change.document.id,
                    "status": doc.get("status"),
                    "image": bool(doc.get("image")),
                    "video": bool(doc.get("video")),
                    "read": read_time.timestamp() if read_time else None,
                    "updated": change.document.update_time.timestamp()
                    if change.document.update_time
                    else None,
                }
            )
            with lock:
                print(line, flush=True)

    watches = [
        db.collection("campaigns").document(cid).collection("media").on_snapshot(on_change)
        for cid in campaign_ids
    ]
    print(json.dumps({"ready": True}), flush=True)
    try:
        threading.Event().wait()
    finally:
        for watch in watches:
            watch.unsubscribe()


if __name__ == "__main__":
    main(sys.argv[1:])
