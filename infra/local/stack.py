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

This module is the `LocalStack` itself; its pieces live beside it: plan.py (the
parts, ports and env), launch.py (each part's command line), readiness.py
(waiting for the parts, the bucket and topics), state.py (the state file),
wipe.py (emptying it between tests) and cli.py (the CLI modes above).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from infra.iam import policy as iam_policy
from infra.local import procs, readiness, wipe
from infra.local.launch import Launcher, python
from infra.local.plan import (
    FUNCTIONS,
    PARTS,
    StackError,
    check_sources,
    default_state_dir,
    make_plan,
)
from infra.local.procs import HOST, Proc
from infra.local.scheduler import SweepTimer
from infra.local.scheduler import every_s as sweep_every_s
from infra.local.state import STATE_FILE, read_state, write_state
from infra.local.supervisor import Supervisor

Log = Callable[[str], None]


# How long a restarted function's old port may stay taken after its process
# was stopped (gunicorn closes it as it exits).
PORT_FREE_TIMEOUT_S = 10.0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
        # The process functions are forked from (forkserver.py), and its name.
        self.forkserver: Proc | None = None
        self.forkserver_name: str | None = None

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
        check_sources(root)
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
                readiness.wait_all(stack.procs, stack.env, stack.timings, stack._t0, log)
            except BaseException as exc:
                stack.stop(log=lambda _line: None)
                if attempt < attempts and readiness.port_was_taken(exc):
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
        plan = make_plan(log_dir, extra_env)
        stack = cls(root, {}, plan.env, plan.function_env, log_dir, None, {}, mode)
        stack._t0 = time.monotonic()
        log(f"local stack: starting {len(PARTS)} parts, logs in {log_dir}")
        log_dir.mkdir(parents=True, exist_ok=True)
        config = log_dir / "demo-config.json"
        config.write_text(json.dumps(plan.env, indent=2, sort_keys=True))
        try:
            stack.start_forkserver()  # first: it imports while the emulators start
            for name in PARTS:
                if name == next(iter(FUNCTIONS)):
                    # While the emulators start: the grants each function checks
                    # its calls against, read from terraform/ once (seconds).
                    iam_policy.warm(plan.function_env)
                stack.procs[name] = stack.launcher.spawn(name, plan.ports, config)
            if state_dir is not None:
                # Recorded before waiting, so `down` can clean up after a start
                # that was killed half-way; rewritten with "ready" at the end.
                stack.state_dir = Path(state_dir).resolve()
                stack._write_state(ready=False)
        except BaseException:
            stack.stop(log=lambda _line: None)
            raise
        return stack

    # ------------------------------------------------------------ functions

    def restart_function(self, name: str, extra_env: dict[str, str] | None = None) -> Proc:
        """Stop one function by PID and start it again on the same port.

        The new process gets the stack's function env plus `extra_env` (and
        nothing left over from a previous restart's extra_env), e.g.
        {"MEDIA_CRASH_AFTER": "png_stored"} and then a plain restart.
        """
        return self.restart_functions([name], extra_env)[name]

    def restart_functions(
        self,
        names: list[str] | tuple[str, ...],
        extra_env: dict[str, str] | None = None,
        only: dict[str, dict[str, str]] | None = None,
    ) -> dict[str, Proc]:
        """restart_function for several functions side by side: stopped
        together (their graceful shutdowns overlap), started together and
        waited for in parallel. Each gets `extra_env`, plus `only[name]` when
        given (e.g. a crash point for one of them). Three paced functions took
        three restarts' time one after another; most of a restart is waiting
        (for open requests to end, for the new process to import its
        module), so together they take little more than the slowest."""
        for name in names:
            if name not in FUNCTIONS:
                raise KeyError(f"{name} is not a function ({', '.join(FUNCTIONS)})")
        with self._lock:
            old = {name: self.procs[name] for name in names}
            procs.stop_many(list(old.values()))
            for name, proc in old.items():
                # Else the new process cannot bind, and the old one would go
                # on answering with the old settings as if restarted.
                if proc.port and not procs.wait_closed(HOST, proc.port, PORT_FREE_TIMEOUT_S):
                    raise StackError(
                        f"{name}: port {proc.port} still answers after pid {proc.pid} was "
                        "stopped: a process this stack does not know holds it"
                    )
            for name in names:
                self.outages.discard(name)
            extra = {name: {**(extra_env or {}), **(only or {}).get(name, {})} for name in names}
            for name in names:
                port = old[name].port
                assert port is not None
                self.function_extra_env[name] = extra[name]
                env = {**self.function_env, **extra[name]}
                self.procs[name] = self.launcher.spawn_function(name, port, env)
            if self.state_dir is not None:
                self._write_state()  # at once: a supervisor elsewhere must see it
            errors: list[BaseException] = []

            def wait(name: str) -> None:
                try:
                    self._wait_restarted(name, {**self.function_env, **extra[name]})
                except BaseException as exc:  # noqa: BLE001 (re-raised below)
                    errors.append(exc)

            waiters = [threading.Thread(target=wait, args=(name,)) for name in names]
            for waiter in waiters:
                waiter.start()
            for waiter in waiters:
                waiter.join()
            if errors:
                raise errors[0]
            if self.state_dir is not None:
                self._write_state()
            return {name: self.procs[name] for name in names}

    def _wait_restarted(self, name: str, env: dict[str, str]) -> None:
        proc = self.procs[name]
        try:
            readiness.wait_ready(name, proc)
        except (procs.ProcessDied, procs.PortTaken) as exc:
            if not readiness.port_was_taken(exc):
                raise
            # The old socket may linger a moment; one more try.
            time.sleep(0.5)
            assert proc.port is not None
            proc = self.launcher.spawn_function(name, proc.port, env)
            self.procs[name] = proc
            readiness.wait_ready(name, proc)
        procs.refresh_identity(proc)

    def start_forkserver(self) -> Proc:
        """A fork server for this stack's function starts (forkserver.py);
        without one running, functions start as fresh interpreters."""
        with self._lock:
            self.forkserver_name = f"cutscenes-forkserver-{uuid.uuid4().hex}"
            self.forkserver = self.launcher.spawn_forkserver(self.forkserver_name)
            if self.state_dir is not None:
                self._write_state()
            return self.forkserver

    @contextlib.contextmanager
    def recorded_in(self, state_dir: Path) -> Iterator[Path]:
        """For the block, this stack recorded in state_dir/stack.json as a
        detached one is, so another process can use it (`LocalStack.load`,
        `python -m bench --state-dir`); the record is removed afterwards."""
        before = self.state_dir
        self.state_dir = Path(state_dir).resolve()
        self._write_state()
        try:
            yield self.state_dir
        finally:
            with contextlib.suppress(FileNotFoundError):
                (self.state_dir / STATE_FILE).unlink()
            self.state_dir = before

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
            readiness.wait_ready(name, proc)
            procs.refresh_identity(proc)
            if self.state_dir is not None:
                self._write_state()
            return proc

    def start_keeper(self) -> Proc:
        """A detached stack's supervisor, in a process of its own (it must
        outlive `up --detach`); recorded in the state file, stopped by `down`."""
        assert self.state_dir is not None
        argv = [python(), "-m", "infra.local.supervisor", "--state-dir", str(self.state_dir)]
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

    @property
    def launcher(self) -> Launcher:
        server = None
        if self.forkserver is not None and self.forkserver_name:
            server = (self.forkserver_name, self.forkserver)
        return Launcher(self.root, self.env, self.function_env, self.log_dir, server)

    # ----------------------------------------------------------------- wipe

    def wipe(self) -> None:
        """Empty Firestore and the bucket, reset the media emulator, drop backlogs."""
        wipe.wipe(self.env)

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
            if self.forkserver is not None:
                procs.stop(self.forkserver)  # last: nothing is forked any more
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
        write_state(self, ready)

    @classmethod
    def load(cls, state_dir: Path) -> LocalStack:
        """The stack recorded in state_dir/stack.json (FileNotFoundError if none)."""
        state_dir = Path(state_dir).resolve()
        state = read_state(state_dir)
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
        if state.get("forkserver"):
            stack.forkserver = Proc.from_json(state["forkserver"]["proc"])
            stack.forkserver_name = state["forkserver"]["name"]
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


def _cmdline_mentions(pid: int, *needles: str) -> bool:
    cmdline, _ = procs.identity(pid)
    joined = " ".join(cmdline or [])
    return any(n in joined for n in needles)


if __name__ == "__main__":
    from infra.local.cli import main

    sys.exit(main())
