"""Child processes of the local stack: spawn, wait until ready, stop by PID.

Every child runs in its own session (so its own process group): a Ctrl-C in the
terminal reaches only the supervisor, which then stops the children in order, and
stopping one child signals its whole group (gunicorn workers, the JVM that a
launcher script exec'd) without touching anything else on the machine.

A PID is only ever signalled after checking, through psutil, that it is still
the process we started (same command line and start time), so a PID the kernel
has since reused for something else is never hit.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from infra.local.pids import group_members, identity, is_alive, same_start

HOST = "127.0.0.1"


def free_port() -> int:
    """One currently free TCP port on 127.0.0.1 (see `free_ports` for several)."""
    return free_ports(1)[0]


# Listening ports are chosen from [LISTEN_FLOOR, the kernel's ephemeral range):
# ports the kernel never hands out by itself.
LISTEN_FLOOR = 10000
_FALLBACK_EPHEMERAL = (32768, 60999)  # Linux's default ip_local_port_range


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for automatic ports: bind(0) and outgoing connections.

    A sysctl psutil has no call for: read where Linux keeps it, else Linux's
    default (the local stack runs on Linux only; README "Platform")."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return _FALLBACK_EPHEMERAL


def free_ports(n: int) -> list[int]:
    """n distinct free ports, all held open together while choosing so none repeats.

    Chosen at random below the kernel's ephemeral range. A port from bind(0) is
    one the kernel goes on handing out to every other bind(0) and outgoing
    connection on the machine: the JVM emulators open random ports of their own
    while they start, and once (CI, a busy machine) the probe of one part met a
    JVM's gRPC port, opened meanwhile on the port chosen for it ("Unexpected
    HTTP/1.x request"). Below the range, only someone choosing the port on
    purpose can take it; the stack's start retries that rare case (PortTaken).
    """
    low, _high = ephemeral_range()
    pool = range(LISTEN_FLOOR, low)
    if len(pool) < 1000:  # an unusual kernel setting: no room below the range
        return _kernel_ports(n)
    rng = random.SystemRandom()
    socks: list[socket.socket] = []
    try:
        for _ in range(20 * n + 100):
            if len(socks) == n:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                # No SO_REUSEADDR: a port with a connection still in TIME_WAIT
                # counts as taken, as it does for a server binding it plainly.
                s.bind((HOST, rng.choice(pool)))
            except OSError:
                s.close()
                continue
            socks.append(s)
        if len(socks) < n:
            raise OSError(f"no {n} free ports between {LISTEN_FLOOR} and {low}")
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _kernel_ports(n: int) -> list[int]:
    socks: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


# Any start time past this (2001) is from the epoch, not from boot.
EPOCH_STARTS = 1e9


@dataclass
class Proc:
    """One child process as recorded in stack.json."""

    name: str
    pid: int
    port: int | None
    log: str
    argv: list[str] = field(default_factory=list)
    # The command line and start time (seconds since boot: pids.py says why
    # not since the epoch) right after spawning: the identity checked before
    # any later signal (see `is_ours`).
    cmdline: list[str] = field(default_factory=list)
    started_at: float | None = None
    # Extra environment given on top of the inherited one (needed to respawn).
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Proc:
        # A stack.json written before kept the start in clock ticks, or in
        # seconds since the epoch: neither compares with seconds since boot,
        # so such a process is known by its command line.
        data = {k: v for k, v in data.items() if k != "start_ticks"}
        if (data.get("started_at") or 0) > EPOCH_STARTS:
            data["started_at"] = None
        return cls(**data)


def is_ours(proc: Proc) -> bool:
    """True while proc.pid is alive and is still the process we spawned.

    Identity is the PID plus its start time (unique while the machine is up) and,
    once recorded, its command line as well.
    """
    if not is_alive(proc.pid) or (proc.started_at is None and not proc.cmdline):
        return False
    cmdline, started_at = identity(proc.pid)
    if proc.started_at is not None and not same_start(started_at, proc.started_at):
        return False
    # Recorded again once the part answered, after any launcher script has
    # exec'd its real program (the Pub/Sub emulator's script execs java).
    if proc.cmdline and cmdline != proc.cmdline:
        # An exiting process has no command line any more (its memory is freed
        # before its sockets close); same PID and start time: still ours.
        return not cmdline and proc.started_at is not None
    return True


def spawn(
    name: str,
    argv: list[str],
    env: dict[str, str] | None,
    log_dir: Path,
    *,
    port: int | None = None,
    cwd: Path | None = None,
    inherit_env: bool = True,
) -> Proc:
    """Start argv in a new session, stdout and stderr appended to log_dir/name.log."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    full_env = dict(os.environ) if inherit_env else {}
    full_env.update(env or {})
    with open(log_path, "ab") as log:
        log.write(f"\n=== {time.strftime('%H:%M:%S')} start {' '.join(argv)}\n".encode())
        log.flush()
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
            close_fds=True,
        )
    _POPENS[popen.pid] = popen
    return _started(name, popen.pid, port, log_path, argv, env, cwd)


def _started(
    name: str,
    pid: int,
    port: int | None,
    log_path: Path,
    argv: list[str],
    env: dict[str, str] | None,
    cwd: Path | None,
) -> Proc:
    """The record of a process just started, spawned or forked. Only its
    start time now: the command line may still be ours (before exec) or a
    launcher's; `refresh_identity` records it once the part answers."""
    _, started_at = identity(pid)
    return Proc(
        name=name,
        pid=pid,
        port=port,
        log=str(log_path),
        argv=list(argv),
        cmdline=[],
        started_at=started_at,
        env=dict(env or {}),
        cwd=str(cwd) if cwd else None,
    )


def spawn_forked(
    server: str,
    server_proc: Proc,
    name: str,
    argv: list[str],
    env: dict[str, str],
    log_dir: Path,
    *,
    port: int | None = None,
    cwd: Path,
    timeout: float = 60.0,
) -> Proc:
    """`spawn` for a function, forked by the stack's fork server (named
    `server`, running as `server_proc`; forkserver.py says what a forked
    start keeps): argv[3:] are function_runner's arguments (argv is `python -m
    infra.local.function_runner ...`). Raises OSError if the server does not
    answer."""
    from infra.local import forkserver

    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    full_env = {**os.environ, **env}
    with open(log_path, "ab") as log:
        log.write(f"\n=== {time.strftime('%H:%M:%S')} start (forked) {' '.join(argv)}\n".encode())
    request = {"argv": argv[3:], "env": full_env, "cwd": str(cwd), "log": str(log_path)}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)  # the server imports first: seconds on a busy machine
        _connect(conn, forkserver.address(server), server_proc, timeout)
        conn.sendall(json.dumps(request).encode() + b"\n")
        answer = forkserver.read_line(conn)
    if not answer.endswith(b"\n"):
        raise OSError(f"fork server {server} closed the connection")
    return _started(name, int(json.loads(answer)["pid"]), port, log_path, argv, env, cwd)


def _connect(conn: socket.socket, address: str, server: Proc, timeout: float) -> None:
    """Connect to a fork server that may not have bound its socket yet (it was
    spawned a moment ago), while it runs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.connect(address)
            return
        except (ConnectionRefusedError, FileNotFoundError):
            if time.monotonic() > deadline or not is_ours(server):
                raise
            time.sleep(0.05)


# Popen objects of children spawned by this process, so their exit status is
# collected (no zombies) and `stop` can wait on them precisely.
_POPENS: dict[int, subprocess.Popen] = {}


def _reap(pid: int) -> None:
    popen = _POPENS.get(pid)
    if popen is not None and popen.poll() is not None:
        _POPENS.pop(pid, None)


def refresh_identity(proc: Proc) -> None:
    """Record what proc.pid runs now (call once it answers, after any exec)."""
    cmdline, started_at = identity(proc.pid)
    if cmdline:
        proc.cmdline = cmdline
    if started_at is not None:
        proc.started_at = started_at


def exited(proc: Proc) -> int | None:
    """Exit code if a child spawned by this process has exited, else None."""
    popen = _POPENS.get(proc.pid)
    if popen is not None:
        return popen.poll()
    return None if is_ours(proc) else -1


def stop(proc: Proc, timeout: float = 5.0) -> bool:
    """SIGTERM proc's process group, wait up to `timeout`, then SIGKILL it.

    Returns True if something was signalled. Only ever signals proc.pid's own
    group, and only after checking the PID still belongs to the process spawned.
    """
    return stop_many([proc], timeout) > 0


def stop_many(items: list[Proc], timeout: float = 5.0) -> int:
    """`stop` for several at once: SIGTERM each in the given order, then wait for
    all of them together (so stopping ten parts takes as long as the slowest),
    then SIGKILL whatever is left. Returns how many were signalled."""
    signalled: list[Proc] = []
    for proc in items:
        if is_ours(proc):
            _signal(proc.pid, None, signal.SIGTERM)  # the whole group: leader verified
            signalled.append(proc)
            continue
        _reap(proc.pid)
        if is_alive(proc.pid):
            continue  # the PID now runs something else: never touch it
        # Leader gone (or dying): the kernel does not reuse a PID while it still
        # names a live process group, so what is left in group proc.pid is ours.
        members = group_members(proc.pid)
        if members:
            _signal(proc.pid, members, signal.SIGTERM)
            signalled.append(proc)
    deadline = time.monotonic() + timeout
    pending = list(signalled)
    while pending and time.monotonic() < deadline:
        for proc in pending:
            _reap(proc.pid)
        pending = [p for p in pending if group_members(p.pid)]
        if pending:
            time.sleep(0.05)
    for proc in pending:
        _signal(proc.pid, group_members(proc.pid), signal.SIGKILL)
    end = time.monotonic() + 2.0
    while pending and time.monotonic() < end:
        for proc in pending:
            _reap(proc.pid)
        pending = [p for p in pending if group_members(p.pid)]
        if pending:
            time.sleep(0.05)
    for proc in signalled:
        popen = _POPENS.pop(proc.pid, None)
        if popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=1.0)
    return len(signalled)


def _signal(pgid: int, targets: list[int] | None, sig: signal.Signals) -> None:
    if targets is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        return
    for pid in targets:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def wait_tcp(
    host: str,
    port: int,
    timeout: float,
    proc: Proc | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Until host:port accepts a connection; fail early if proc exits first
    (or `cancel` is set: another part already failed)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            pass
        _check(proc, f"{host}:{port}", cancel)
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f} s")
        time.sleep(0.05)


def wait_closed(host: str, port: int, timeout: float) -> bool:
    """Until nothing accepts connections on host:port; False if something
    still does after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                pass
        except ConnectionRefusedError:
            return True
        except OSError:
            pass  # a timeout: something listens, too busy to accept
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def wait_http(
    url: str,
    timeout: float,
    proc: Proc | None = None,
    ok: tuple[int, ...] = (200,),
    cancel: threading.Event | None = None,
) -> None:
    """Until GET url answers with a status in `ok`; fail early if proc exits first
    (or `cancel` is set)."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2.0) as resp:
                if resp.status in ok:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            if exc.code in ok:
                return
            last = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            # Before the next clause: a connection closed without an answer
            # (RemoteDisconnected is both) is a server still starting.
            last = str(exc)
        except http.client.HTTPException as exc:
            # Something answers, but not in HTTP/1: not the part we started.
            raise PortTaken(f"{url} is answered by another server ({exc!r:.120})") from exc
        _check(proc, url, cancel)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not ready after {timeout:.0f} s ({last})")
        time.sleep(0.05)


def listens(proc: Proc, port: int) -> bool:
    """Whether proc, or a process it started, holds a listening TCP socket on
    `port`. A probe that is answered proves only that something listens:
    once, on a busy machine, three stacks starting side by side chose the
    same port, the other stack's function answered this one's probe, and
    this stack's function died unable to bind while it counted as ready
    (its supervisor saw the port answered and replaced nothing)."""
    try:
        root = psutil.Process(proc.pid)
        family = [root, *root.children(recursive=True)]
    except psutil.Error:
        return False
    for member in family:
        try:
            found = member.net_connections(kind="tcp")
        except psutil.Error:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr[1] == port for c in found):
            return True
    return False


class ProcessDied(RuntimeError):
    pass


class PortTaken(RuntimeError):
    """A port chosen for a part is held by another process."""


class Cancelled(RuntimeError):
    pass


def _check(proc: Proc | None, what: str, cancel: threading.Event | None = None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"stopped waiting for {what}")
    if proc is None:
        return
    code = exited(proc)
    if code is not None:
        raise ProcessDied(
            f"{proc.name} exited (code {code}) before {what} answered; "
            f"last log lines:\n{tail(proc.log)}"
        )


def tail(path: str | Path, lines: int = 15) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
