"""Emptying a running stack between tests: Firestore, the bucket, the media
emulator's state and every subscription's backlog."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request


def wipe(env: dict[str, str]) -> None:
    """Empty Firestore and the bucket, reset the media emulator, drop backlogs."""
    project = env["GOOGLE_CLOUD_PROJECT"]
    _http(
        "DELETE",
        f"http://{env['FIRESTORE_EMULATOR_HOST']}/emulator/v1/projects/{project}"
        "/databases/(default)/documents",
    )
    _empty_bucket(env)
    _http("POST", env["GENAI_EMULATOR_URL"] + "/_emulator/reset", body=b"{}")
    _drop_backlogs(env)


def _empty_bucket(env: dict[str, str]) -> None:
    base = f"{env['STORAGE_EMULATOR_HOST']}/storage/v1/b/"
    base += urllib.parse.quote(env["MEDIA_BUCKET"], safe="")
    token = ""
    while True:
        query = "?maxResults=1000"
        if token:
            query += f"&pageToken={urllib.parse.quote(token)}"
        listing = json.loads(_http("GET", f"{base}/o{query}") or b"{}")
        for item in listing.get("items", []):
            name = urllib.parse.quote(item["name"], safe="")
            with contextlib.suppress(urllib.error.HTTPError):
                _http("DELETE", f"{base}/o/{name}")
        token = listing.get("nextPageToken", "")
        if not token:
            return


def _drop_backlogs(env: dict[str, str]) -> None:
    """Ack everything pending on every subscription (seek to now)."""
    from google.protobuf import timestamp_pb2

    from infra.local.pubsub_setup import clients

    publisher, subscriber = clients(env["PUBSUB_EMULATOR_HOST"])
    try:
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        project = f"projects/{env['GOOGLE_CLOUD_PROJECT']}"
        for sub in subscriber.list_subscriptions(request={"project": project}):
            with contextlib.suppress(Exception):
                subscriber.seek(request={"subscription": sub.name, "time": now})
    finally:
        subscriber.close()


# ----------------------------------------------------------------- stop


def _http(method: str, url: str, body: bytes | None = None, timeout: float = 10.0) -> bytes:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()
