"""The CLI modes of the local stack, behind `cutscenes local up|down|status`
(and `python -m infra.local.stack`, the same commands).

`up --detach` while a stack recorded in the state dir is running prints that
stack's env JSON again and exits 0 (a note on stderr says it was already
running), so scripts can call it idempotently; if the recorded stack is only
partly alive it exits 1 and asks for `down` first. Foreground `up` refuses (exit
1) while another stack is recorded as running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
from pathlib import Path

from infra.local import procs
from infra.local.plan import StackError, default_root, default_state_dir
from infra.local.stack import LocalStack
from infra.local.state import STATE_FILE


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
