"""Waiting for a starting stack: each part's probe, all in parallel, then the
bucket and the Pub/Sub topics the parts need; and telling a port lost to
another process (worth one retry on fresh ports) from any other failure."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from infra.local import procs
from infra.local.plan import PARTS
from infra.local.procs import HOST, Proc

# How long a part may take to answer before the stack gives up on it. A part
# that died is reported at once (its process exits); this bounds only a slow
# start: the Auth emulator (Node, firebase-tools) took 29 s at load 13 and
# over 60 s at load 18 on a 2-core machine running other stacks.
READY_TIMEOUT_S = 180.0

Log = Callable[[str], None]


def wait_all(
    procs_: dict[str, Proc], env: dict[str, str], timings: dict[str, float], t0: float, log: Log
) -> None:
    """Wait for every part in parallel, then create the bucket and topics;
    each part's time since t0 goes into timings."""
    errors: list[BaseException] = []
    threads = []
    pubsub_ready = threading.Event()
    gcs_ready = threading.Event()

    failed = threading.Event()

    def wait(name: str) -> None:
        try:
            wait_ready(name, procs_[name], cancel=failed)
            timings[name] = round(time.monotonic() - t0, 2)
            log(f"  {name:<15} ready in {timings[name]:.2f} s")
            procs.refresh_identity(procs_[name])
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
                env["GOOGLE_CLOUD_PROJECT"],
                env["RENDER_STILL_URL"],
                env["ANIMATE_STILL_URL"],
                janitor_url=env["JANITOR_URL"],
                env=env,
                emulator_host=env["PUBSUB_EMULATOR_HOST"],
            )
            pubsub_setup.ensure_finish_topology(
                env["GOOGLE_CLOUD_PROJECT"],
                env["FINISH_CLIP_URL"],
                env["MEDIA_FINISH_TOPIC"],
                emulator_host=env["PUBSUB_EMULATOR_HOST"],
            )
            timings["pubsub_topology"] = round(time.monotonic() - t0, 2)
            log(
                f"  {'pubsub topics':<15} ready in {timings['pubsub_topology']:.2f} s"
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
            create_bucket(env)
            timings["gcs_bucket"] = round(time.monotonic() - t0, 2)
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
    timings["total"] = round(time.monotonic() - t0, 2)
    log(f"local stack: up in {timings['total']:.2f} s")


def wait_ready(
    name: str,
    proc: Proc,
    timeout: float = READY_TIMEOUT_S,
    cancel: threading.Event | None = None,
) -> None:
    """Until the part answers its probe (a function: accepts a connection)."""
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
    if proc.port is not None and not procs.listens(proc, proc.port):
        # Another process answered (another stack chose the same port): the
        # start retries on new ports, a restart once more on the same one.
        raise procs.PortTaken(f"{name}: port {proc.port} answers, but not from pid {proc.pid}")


def create_bucket(env: dict[str, str]) -> None:
    base = env["STORAGE_EMULATOR_HOST"]
    project = urllib.parse.quote(env["GOOGLE_CLOUD_PROJECT"])
    body = json.dumps({"name": env["MEDIA_BUCKET"]}).encode()
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


def port_was_taken(exc: BaseException) -> bool:
    """Whether a failed start lost a chosen port to another process: a part died
    unable to bind it, or another server answered its probe."""
    if isinstance(exc, procs.PortTaken):
        return True
    return isinstance(exc, procs.ProcessDied) and looks_like_port_clash(str(exc))


def looks_like_port_clash(text: str) -> bool:
    text = text.lower()
    return "address already in use" in text or "bindexception" in text or "bind:" in text
