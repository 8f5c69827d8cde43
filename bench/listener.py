"""A Firestore listener in its own process, as a player's browser would be:
prints one JSON line per change of a campaign's media, stamped on arrival."""

from __future__ import annotations

import json
import sys
import threading
import time


def main(campaign_id: str) -> None:
    from shared.store.connections import firestore_client

    db = firestore_client()
    # "*": every campaign's media at once (the scale benchmark).
    media = (
        db.collection_group("media")
        if campaign_id == "*"
        else db.collection("campaigns").document(campaign_id).collection("media")
    )

    def on_change(_docs, changes, _read_time) -> None:
        stamp = time.time()
        for change in changes:
            doc = change.document.to_dict() or {}
            print(
                json.dumps(
                    {
                        "t": stamp,
                        "asset_id": change.document.id,
                        "status": doc.get("status"),
                        "image": bool(doc.get("image")),
                        "video": bool(doc.get("video")),
                    }
                ),
                flush=True,
            )

    watch = media.on_snapshot(on_change)
    print(json.dumps({"ready": True}), flush=True)
    try:
        threading.Event().wait()
    finally:
        watch.unsubscribe()


if __name__ == "__main__":
    main(sys.argv[1])
