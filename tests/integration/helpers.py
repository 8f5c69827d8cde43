"""Small helpers the integration tests share: publish, wait, inspect."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.client import build_message, configure_campaign
from shared.core.settings import get_settings
from shared.domain.ids import asset_id_for
from shared.domain.status import TERMINAL
from shared.store.assets import load_fields as load
from shared.store.connections import publisher, storage_client, topic_path


def http_json(method: str, url: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read()
    return json.loads(text) if text else None


def emulator(stack, method: str, route: str, body: Any = None) -> Any:
    return http_json(method, stack.env["GENAI_EMULATOR_URL"] + route, body)


def fault(stack, method: str, kind: str, count: int, status: int | None = None) -> None:
    """The media emulator's next `count` calls of `method` fail that way."""
    body: dict[str, Any] = {"method": method, "kind": kind, "count": count}
    if status:
        body["status"] = status
    emulator(stack, "POST", "/_emulator/faults", body)


def calls(stack) -> dict[str, Any]:
    return emulator(stack, "GET", "/_emulator/calls")


def enable(campaign: str = "c1", budget: float = 5.0, **settings: Any) -> None:
    configure_campaign(campaign, enabled=True, budget_usd=budget, members=["alice"], **settings)


def cutscene(n: int = 1, **over: Any) -> dict[str, Any]:
    # A fresh id per call: a straggling delivery from an earlier test must not
    # land on this test's asset after the wipe.
    fields = dict(
        request_id=f"req-{uuid.uuid4().hex[:12]}-{n:05d}",
        campaign_id="c1",
        session_id="s1",
        turn_number=n,
        kind="cutscene",
        cutscene_type="action_climax",
        image_prompt=f"a sword clash under a red moon, take {n}",
        motion_prompt="slow push in, sparks fly",
        duration_seconds=4,
    )
    fields.update(over)
    return build_message(**fields)


def publish_raw(data: bytes, **attrs: str) -> str:
    topic = topic_path(get_settings().MEDIA_REQUESTS_TOPIC)
    return publisher().publish(topic, data, **attrs).result(timeout=10)


def delivery_lines(stack, message_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    """render_still's log lines for each of `message_ids` (Pub/Sub message
    ids, bound to its lines as delivery_id): what it made of each delivery
    and the access line with its answer. Only the named messages count: a
    delivery an earlier test left in flight on the same stack is not one."""
    seen: dict[str, list[dict[str, Any]]] = {}
    text = Path(stack.procs["render_still"].log).read_text(errors="replace")
    for line in text.splitlines():
        if '"delivery_id"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("delivery_id") in message_ids:
            seen.setdefault(entry["delivery_id"], []).append(entry)
    return seen


def invalid_deliveries(stack, message_ids: set[str]) -> Counter[str]:
    """How often render_still handled each of `message_ids` as invalid."""
    return Counter(
        {
            i: n
            for i, lines in delivery_lines(stack, message_ids).items()
            if (n := sum(e.get("event") == "request_invalid" for e in lines))
        }
    )


def answers(lines: dict[str, list[dict[str, Any]]]) -> Counter[int]:
    """The HTTP statuses render_still answered those deliveries with."""
    return Counter(
        e["httpRequest"]["status"]
        for entries in lines.values()
        for e in entries
        if e.get("event") == "http_access"
    )


def publish(message: dict[str, Any]) -> str:
    return publish_raw(json.dumps(message).encode())


def backoff(first: float = 0.05, most: float = 0.25) -> Iterator[float]:
    """Pauses between looks at something that ends by itself: short at first,
    then at most `most`. Each look at Firestore costs about 3 ms of CPU (the
    client and the emulator); looking 20 times a second through every wait
    of a suite that is CPU-bound on its workers slowed everything else."""
    pause = first
    while True:
        yield pause
        pause = min(most, pause * 1.5)


def wait_terminal(campaign_id: str, request_id: str, timeout: float = 60.0) -> dict[str, Any]:
    asset_id = asset_id_for(request_id)
    deadline = time.monotonic() + timeout
    doc = None
    pauses = backoff()
    while time.monotonic() < deadline:
        doc = load(campaign_id, asset_id)
        if doc and doc.get("status") in TERMINAL:
            return doc
        time.sleep(next(pauses))
    status = doc and doc.get("status")
    raise AssertionError(f"{request_id} not terminal after {timeout} s: {status}")


def object_bytes(uri: str) -> bytes:
    bucket, _, name = uri[5:].partition("/")
    return storage_client().bucket(bucket).blob(name).download_as_bytes()


def bucket_names(prefix: str = "") -> list[str]:
    bucket = storage_client().bucket(get_settings().MEDIA_BUCKET)
    return sorted(b.name for b in bucket.list_blobs(prefix=prefix))


def probe_video(path: str) -> dict[str, Any]:
    """What ffmpeg says about a file: codec, size and duration."""
    import imageio_ffmpeg

    out = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", path],
        capture_output=True,
        text=True,
    ).stderr
    codec = re.search(r"Video: (\w+)", out)
    size = re.search(r"Video: .*?(\d{2,5})x(\d{2,5})", out)
    dur = re.search(r"Duration: (\d+):(\d+):([\d.]+)", out)
    return {
        "codec": codec.group(1) if codec else None,
        "width": int(size.group(1)) if size else None,
        "height": int(size.group(2)) if size else None,
        "duration": (
            int(dur.group(1)) * 3600 + int(dur.group(2)) * 60 + float(dur.group(3)) if dur else None
        ),
    }


@contextmanager
def delivery_attempts(stack, attempts: int, subscription: str = "render-still"):
    """Lower a work subscription's dead-letter attempt limit for one test.

    The local stack allows 100 attempts at a fixed 1 s retry (about 100 s, see
    infra/local/pubsub_setup.py); a test of the dead-letter path itself needs
    only a few, so it takes seconds, not minutes."""
    from infra.local.pubsub_setup import clients

    _, subscriber = clients(stack.env["PUBSUB_EMULATOR_HOST"])
    path = subscriber.subscription_path(stack.env["GOOGLE_CLOUD_PROJECT"], subscription)
    sub = subscriber.get_subscription(request={"subscription": path})
    before = sub.dead_letter_policy.max_delivery_attempts

    def set_limit(limit: int) -> None:
        sub.dead_letter_policy.max_delivery_attempts = limit
        subscriber.update_subscription(
            request={"subscription": sub, "update_mask": {"paths": ["dead_letter_policy"]}}
        )

    set_limit(attempts)
    try:
        yield
    finally:
        set_limit(before)
        subscriber.close()


def run_terminating(
    argv: list[str], cwd: Any, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess:
    """Run a command to its end. Past `timeout` it gets SIGTERM, not
    subprocess.run's SIGKILL: a `local up --detach` cut short then stops the
    parts it had started instead of leaving them running with no state file
    to find them."""
    child = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.terminate()
        child.communicate(timeout=60)
        raise
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)
