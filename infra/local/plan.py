"""What a local stack is made of, decided before anything is spawned: its parts,
their ports and the env every part and function gets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from infra.local import procs, sizing
from infra.local.procs import HOST

PROJECT = "demo-cutscenes"
DEFAULT_BUCKET = "demo-cutscenes-media"

# name -> signature type. Each lives in functions/<name>/main.py as def <name>.
FUNCTIONS: dict[str, str] = {
    "render_still": "cloudevent",
    "animate_still": "cloudevent",
    "media_api": "http",
    "janitor": "http",
    "finish_clip": "cloudevent",
}
# Start order; stop runs it backwards. "auth" (the Firebase Auth emulator, still
# the slowest part: about 2 s alone, 14 s beside two other stacks and a
# CPU-bound process; launch.AUTH_PRELOAD) is spawned first so its start
# overlaps the rest.
PARTS = ("auth", "firestore", "pubsub", "gcs", "media_emulator", *FUNCTIONS, "demo", "scheduler")
# Ports the Auth emulator's CLI opens besides its own (hub, logging): named in a
# firebase.json per stack, or every stack would want the fixed 4400 and 4500.
AUTH_EXTRA_PORTS = ("auth_hub", "auth_logging")


def default_root() -> Path:
    """CUTSCENES_ROOT, else this checkout (editable install), else the cwd."""
    env_root = os.environ.get("CUTSCENES_ROOT")
    if env_root:
        return Path(env_root).resolve()
    here = Path(__file__).resolve().parents[2]
    if (here / "functions").is_dir():
        return here
    return Path.cwd().resolve()


def default_state_dir(root: Path) -> Path:
    return root / ".local"


@dataclass
class Plan:
    """Ports and env decided before anything is spawned."""

    ports: dict[str, int]
    env: dict[str, str]
    function_env: dict[str, str]


class StackError(RuntimeError):
    pass


def make_plan(log_dir: Path, extra_env: dict[str, str]) -> Plan:
    names = [*PARTS, "firestore_ws", *AUTH_EXTRA_PORTS]
    ports = dict(zip(names, procs.free_ports(len(names)), strict=True))
    parent = os.environ

    def url(name: str) -> str:
        return f"http://{HOST}:{ports[name]}"

    env = {
        "GOOGLE_CLOUD_PROJECT": extra_env.get("GOOGLE_CLOUD_PROJECT", PROJECT),
        "FIRESTORE_EMULATOR_HOST": f"{HOST}:{ports['firestore']}",
        "FIRESTORE_WEBSOCKET_PORT": str(ports["firestore_ws"]),
        "PUBSUB_EMULATOR_HOST": f"{HOST}:{ports['pubsub']}",
        "STORAGE_EMULATOR_HOST": url("gcs"),
        "FIREBASE_AUTH_EMULATOR_HOST": f"{HOST}:{ports['auth']}",
        "MEDIA_BUCKET": parent.get("MEDIA_BUCKET", DEFAULT_BUCKET),
        "MEDIA_API_URL": url("media_api"),
        "GENAI_EMULATOR_URL": url("media_emulator"),
        "DEMO_URL": url("demo") + "/demo/index.html",
        "MEDIA_REQUESTS_TOPIC": parent.get("MEDIA_REQUESTS_TOPIC", "media-requests"),
        "MEDIA_ANIMATE_TOPIC": parent.get("MEDIA_ANIMATE_TOPIC", "media-animate"),
        "MEDIA_EVENTS_TOPIC": parent.get("MEDIA_EVENTS_TOPIC", "media-events"),
        "MEDIA_CHARGES_TOPIC": parent.get("MEDIA_CHARGES_TOPIC", "media-charges"),
        "RENDER_STILL_URL": url("render_still"),
        "ANIMATE_STILL_URL": url("animate_still"),
        "JANITOR_URL": url("janitor"),
        "FINISH_CLIP_URL": url("finish_clip"),
        "MEDIA_FINISH_TOPIC": parent.get("MEDIA_FINISH_TOPIC", "media-clips"),
        # The operations tick (operations_tick.py), local only; the full sweep
        # keeps MEDIA_SWEEP_EVERY_S (scheduler.py), as in the cloud.
        "MEDIA_VIDEO_SWEEP_EVERY_S": extra_env.get("MEDIA_VIDEO_SWEEP_EVERY_S", "2"),
    }
    # The tick keeps taking paced starts for most of its period, as the
    # cloud's does for most of its minute (terraform/: MEDIA_VEO_DISPATCH_HOLD_S).
    hold_s = 0.8 * float(env["MEDIA_VIDEO_SWEEP_EVERY_S"])
    overridable = (
        "MEDIA_BUCKET",
        "MEDIA_REQUESTS_TOPIC",
        "MEDIA_ANIMATE_TOPIC",
        "MEDIA_EVENTS_TOPIC",
        "MEDIA_CHARGES_TOPIC",
        "MEDIA_FINISH_TOPIC",
    )
    for key in overridable:
        if key in extra_env:
            env[key] = extra_env[key]
    function_env = {
        # The media emulator renders a clip in seconds, not Veo's minute: the
        # sweep asks about an operation that wrote nothing after 5 s.
        "MEDIA_VIDEO_EXPECTED_S": "5",
        "MEDIA_VIDEO_EXPECTED_PER_S": "0",
        # ... and a lost start's clip lands within seconds too: an uncertain
        # start (a worker killed after its intent, a 5xx) is given up after
        # 45 s here, not after Veo's 7 minutes.
        "MEDIA_VEO_ADOPT_WAIT_S": "45",
        # Image calls paced, as in the cloud, but the emulator answers at once
        # and has no image quota unless a test sets one: 10 a second, not the
        # cloud's 1, so a burst of stills is not held back for nothing.
        "MEDIA_IMAGE_CALLS_PER_MIN": "600",
        "MEDIA_VEO_DISPATCH_HOLD_S": f"{hold_s:g}",
        **{k: v for k, v in parent.items() if k.startswith("MEDIA_")},
        **env,
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    # The stack's own addresses always win over a caller's stray values.
    for key in (
        "FIRESTORE_EMULATOR_HOST",
        "PUBSUB_EMULATOR_HOST",
        "STORAGE_EMULATOR_HOST",
        "FIREBASE_AUTH_EMULATOR_HOST",
        "GENAI_EMULATOR_URL",
        "MEDIA_API_URL",
    ):
        function_env[key] = env[key]
    return Plan(ports=ports, env=env, function_env=function_env)


def check_sources(root: Path) -> None:
    missing = [
        str(root / "functions" / name / "main.py")
        for name in FUNCTIONS
        if not (root / "functions" / name / "main.py").exists()
    ]
    # Each function's THREADS and concurrency are Terraform's (sizing.py).
    if not (root / sizing.MAIN_TF).exists():
        missing.append(str(root / sizing.MAIN_TF))
    if not (root / "infra" / "media_emulator").is_dir():
        missing.append(str(root / "infra" / "media_emulator"))
    if missing:
        raise StackError("cannot start the local stack, missing: " + ", ".join(missing))
