"""The local stack enforces terraform/'s IAM (infra/iam/enforce.py): each
function acts as its own service account, and a call its grants do not allow
fails as Google's clients fail it (PermissionDenied) and is logged.

The proof that it can fail: media_api restarted on a scratch copy of
terraform/ without its publish grant on media-requests. Exactly regenerate,
the route that publishes a request, fails; reading routes still answer.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_media_api import call
from tests.integration.test_takes import made, owners, portrait, post

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = ("render_still", "animate_still", "finish_clip", "media_api", "janitor")


def records(path: Path, start: int = 0) -> list[dict[str, Any]]:
    out = []
    with open(path) as f:
        f.seek(start)
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                out.append(record)
    return out


def test_every_function_runs_as_its_service_account(stack):
    for name in FUNCTIONS:
        starts = [
            r for r in records(Path(stack.procs[name].log)) if r.get("event") == "server_start"
        ]
        assert starts and starts[-1]["iam_identity"] == name, name


def scratch_terraform(tmp_path: Path) -> Path:
    """terraform/ without media_api's publish grant on the requests topic."""
    copy = tmp_path / "terraform"
    shutil.copytree(REPO / "terraform", copy, ignore=shutil.ignore_patterns(".terraform"))
    iam = copy / "modules" / "media-pipeline" / "iam.tf"
    text = iam.read_text()
    old = 'media_api = ["requests", "animate", "events", "charges"]'
    assert text.count(old) == 1
    iam.write_text(text.replace(old, 'media_api = ["animate", "events", "charges"]'))
    return copy


def test_a_removed_grant_fails_exactly_the_route_that_needs_it(stack, tmp_path):
    owners()
    old = made(portrait(3))
    log = Path(stack.procs["media_api"].log)
    stack.restart_function(
        "media_api", {"MEDIA_LOCAL_TERRAFORM_DIR": str(scratch_terraform(tmp_path))}
    )
    try:
        start = Path(stack.procs["media_api"].log).stat().st_size
        # Reading routes need nothing that was removed.
        assert call(stack, "/campaigns/c1/me").status == 200
        shown = call(stack, f"/campaigns/c1/media/{old['asset_id']}", user="gm")
        assert shown.status == 200 and shown.json["image_url"]
        # Regenerate publishes to media-requests: refused.
        answer = post(stack, f"/campaigns/c1/media/{old['asset_id']}/regenerate")
        assert answer.status >= 500, answer.raw
        deadline = time.monotonic() + 20
        denied: list[dict[str, Any]] = []
        while not denied and time.monotonic() < deadline:
            denied = [r for r in records(log, start) if r.get("event") == "iam_denied"]
            time.sleep(0.1)
        assert [(r["identity"], r["permission"], r["resource"]) for r in denied] == [
            ("media_api", "pubsub.topics.publish", "topic:requests")
        ]
    finally:
        stack.restart_function("media_api")
    # With terraform/'s own grants the same route works again.
    again = post(stack, f"/campaigns/c1/media/{old['asset_id']}/regenerate")
    assert again.status == 202, again.raw
