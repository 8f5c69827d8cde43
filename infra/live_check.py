"""python -m infra.live_check [--dry-run] [--quality Q] [--no-clip]

For operators: one still and one 4 s clip on a real project, through the same
code the functions use (model adapters, per-model locations, the catalog's
prices), printing where each call went, where the result landed and what it
cost. It needs Application Default Credentials (`gcloud auth
application-default login`, or a service account), GOOGLE_CLOUD_PROJECT and
MEDIA_BUCKET; it spends real money (about $0.07-0.13 for the still and
$0.20-1.60 for the clip, `cutscenes prices` has the figures).

`--dry-run` makes the same calls against the local emulators instead (the
environment of `cutscenes local up --detach`, found by itself), which is how
the tests run it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from typing import Any

from shared.core.errors import MediaError

EMULATOR_VARS = ("GENAI_EMULATOR_URL", "STORAGE_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")


class Refused(Exception):
    """A reason not to start, said in one line."""


def check_environment(dry_run: bool) -> None:
    if dry_run:
        from cutscenes.cli import _load_local_env

        _load_local_env()
        missing = [
            v for v in ("GENAI_EMULATOR_URL", "STORAGE_EMULATOR_HOST") if not os.environ.get(v)
        ]
        if missing:
            raise Refused(
                f"--dry-run needs the local stack ({', '.join(missing)} unset); "
                "start it with `cutscenes local up --detach`"
            )
        return
    set_vars = [v for v in EMULATOR_VARS if os.environ.get(v)]
    if set_vars:
        raise Refused(
            f"{', '.join(set_vars)} set: this would talk to emulators; unset them "
            "for a live check, or pass --dry-run"
        )
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        _, project = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    except DefaultCredentialsError:
        raise Refused(
            "no Application Default Credentials: run `gcloud auth "
            "application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"
        ) from None
    if not os.environ.get("GOOGLE_CLOUD_PROJECT"):
        if not project:
            raise Refused("no project: set GOOGLE_CLOUD_PROJECT")
        os.environ["GOOGLE_CLOUD_PROJECT"] = project
    if not os.environ.get("MEDIA_BUCKET"):
        raise Refused("set MEDIA_BUCKET to a bucket the credentials can write to")


def run(quality: str, clip: bool, out: Any = sys.stdout) -> float:
    from shared.core.settings import get_settings
    from shared.domain.campaign import MediaSettings, plan_for
    from shared.domain.locations import location_for
    from shared.domain.pricing import micros_to_usd
    from shared.domain.request import parse_request
    from shared.store import storage
    from shared.store.media_models import GenaiImageModel, GenaiVideoModel

    settings = get_settings()
    request = parse_request(
        {
            "schema": "media.request.v1",
            "request_id": f"live-check-{uuid.uuid4().hex[:12]}",
            "campaign_id": "live-check",
            "session_id": "live-check",
            "turn_number": 1,
            "kind": "cutscene",
            "cutscene_type": "location_reveal",
            "duration_seconds": 4,
            "image_prompt": "A lighthouse on a cliff at dusk, anime key visual",
            "motion_prompt": "slow push in, waves break below",
        },
        settings.MEDIA_BUCKET,
    )
    plan = plan_for(request, MediaSettings.model_validate({"quality": quality}))
    folder = f"live-check/{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    print(
        f"project {settings.GOOGLE_CLOUD_PROJECT}, bucket {settings.MEDIA_BUCKET},"
        f" quality {quality}",
        file=out,
    )

    t0 = time.monotonic()
    still = GenaiImageModel().generate(
        plan.image_model, request.image_prompt, "16:9", plan.image_size, []
    )
    name = f"{folder}/still.png"
    storage.upload_once(name, still.data, still.mime_type, {})
    spent = plan.image_micros
    print(
        f"still: {plan.image_model} at {location_for(plan.image_model)} -> "
        f"gs://{settings.MEDIA_BUCKET}/{name} ({still.width}x{still.height}, "
        f"{time.monotonic() - t0:.1f} s), ${micros_to_usd(plan.image_micros)}",
        file=out,
    )
    if clip and plan.video_model:
        t1 = time.monotonic()
        video = GenaiVideoModel()
        output = f"gs://{settings.MEDIA_BUCKET}/{folder}/veo/"
        operation = video.start(
            plan.video_model,
            still.data,
            request.motion_prompt or "",
            plan.duration_seconds,
            "16:9",
            plan.video_resolution,
            plan.video_audio,
            output,
        )
        print(f"clip: started {operation}", file=out)
        deadline = time.monotonic() + 600
        while True:
            result = video.poll(operation)
            if result.done:
                break
            if time.monotonic() > deadline:
                raise Refused(f"the clip did not finish within 600 s: {operation}")
            time.sleep(5)
        if result.error or not result.uri:
            print(
                f"clip: {plan.video_model} finished without a clip: {result.error} (not billed)",
                file=out,
            )
        else:
            spent += plan.video_micros
            print(
                f"clip: {plan.video_model} at {location_for(plan.video_model)} -> "
                f"{result.uri} ({plan.duration_seconds} s {plan.video_resolution}, "
                f"{time.monotonic() - t1:.1f} s), ${micros_to_usd(plan.video_micros)}",
                file=out,
            )
    print(f"total: ${micros_to_usd(spent)}", file=out)
    return micros_to_usd(spent)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m infra.live_check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dry-run", action="store_true", help="against the local emulators")
    p.add_argument("--quality", choices=["draft", "standard", "premium"], default="draft")
    p.add_argument("--no-clip", action="store_true", help="only the still")
    args = p.parse_args(argv)
    try:
        check_environment(args.dry_run)
        run(args.quality, clip=not args.no_clip)
    except (Refused, MediaError) as exc:
        print(f"live check: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, Refused) else 1
    except Exception as exc:  # noqa: BLE001 - an operator tool answers in one line
        if os.environ.get("CUTSCENES_DEBUG"):
            raise
        print(f"live check: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
