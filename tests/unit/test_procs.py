"""A child's identity (command line, start time, process group) through psutil:
what every signal of the local stack is checked against."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from infra.local import procs
from infra.local.procs import Proc


def started(argv: list[str]) -> subprocess.Popen:
    child = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    # Between fork and exec the command line is still ours.
    while procs.identity(child.pid)[0] != argv and time.monotonic() < deadline:
        time.sleep(0.01)
    return child


def test_a_child_is_ours_only_with_its_own_start_time_and_command_line(tmp_path):
    child = started(["sleep", "30"])
    try:
        cmdline, started_at = procs.identity(child.pid)
        assert cmdline == ["sleep", "30"] and started_at is not None
        assert abs(started_at - (time.time() - psutil.boot_time())) < 60  # since boot
        mine = Proc("x", child.pid, None, str(tmp_path / "x.log"), cmdline=cmdline)
        mine.started_at = started_at
        assert procs.is_alive(child.pid) and procs.is_ours(mine)
        other = ["sleep", "31"]
        assert not procs.is_ours(
            Proc("x", child.pid, None, "", cmdline=other, started_at=started_at)
        )
        assert not procs.is_ours(
            Proc("x", child.pid, None, "", cmdline=cmdline, started_at=started_at - 1)
        )
        # Its own session, so its own group, led by it.
        assert procs.group_members(child.pid) == [child.pid]
        assert procs.stop(mine, timeout=5)
        child.wait(timeout=5)
    finally:
        child.kill()
        child.wait()
    assert not procs.is_alive(child.pid) and procs.identity(child.pid) == (None, None)
    assert procs.group_members(child.pid) == []


def test_a_zombie_is_not_alive_and_has_no_command_line():
    child = started(["true"])
    deadline = time.monotonic() + 5
    while procs.is_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert not procs.is_alive(child.pid)  # exited, not yet reaped
        assert procs.identity(child.pid)[0] in ([], None)
    finally:
        child.wait()


def test_a_stack_file_from_before_psutil_still_loads():
    old = {"name": "gcs", "pid": 1, "port": 2, "log": "", "cmdline": ["x"], "start_ticks": 123}
    proc = Proc.from_json(old)
    assert proc.started_at is None and proc.cmdline == ["x"]


def test_a_child_stays_ours_when_the_wall_clock_is_stepped(monkeypatch: pytest.MonkeyPatch):
    """A paused and resumed virtual machine steps its wall clock: the boot
    time the kernel reports moves with it, a process's start since boot
    does not (pids.py)."""
    child = started(["sleep", "30"])
    try:
        cmdline, started_at = procs.identity(child.pid)
        mine = Proc("x", child.pid, None, "", cmdline=cmdline, started_at=started_at)
        assert procs.is_ours(mine)
        boot = psutil._psplatform.boot_time
        monkeypatch.setattr(psutil._psplatform, "boot_time", lambda: boot() + 97.0)
        assert procs.identity(child.pid)[1] == started_at and procs.is_ours(mine)
    finally:
        child.kill()
        child.wait()


def test_a_stack_file_with_epoch_start_times_still_loads():
    old = {"name": "gcs", "pid": 1, "port": 2, "log": "", "cmdline": ["x"], "started_at": 1.8e9}
    proc = Proc.from_json(old)
    assert proc.started_at is None and proc.cmdline == ["x"]


def test_a_port_answered_by_another_process_is_not_listened_on_by_ours(tmp_path) -> None:
    """What readiness checks after a probe: the listener must be the part's
    own process or one it started, not another stack's on the same port."""
    with socket.socket() as theirs:
        theirs.bind((procs.HOST, 0))
        theirs.listen()
        port = theirs.getsockname()[1]
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
        )
        try:
            ours = Proc("x", child.pid, port, str(tmp_path / "x.log"))
            assert not procs.listens(ours, port)  # answered, by this test process
            assert procs.listens(Proc("me", os.getpid(), port, ""), port)
        finally:
            child.kill()
            child.wait()
    grandchild = subprocess.Popen(  # a launcher whose child holds the port, like the JVMs'
        [
            sys.executable,
            "-c",
            "import socket, subprocess, sys, time\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
            "port = s.getsockname()[1]\n"
            "child = subprocess.Popen(\n"
            "    [sys.executable, '-c', 'import time; time.sleep(30)'], pass_fds=[s.fileno()]\n"
            ")\n"
            "s.close()  # only the child holds it now\n"
            "print(port, flush=True)\n"
            "child.wait()\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert grandchild.stdout is not None
        port = int(grandchild.stdout.readline())
        assert procs.listens(Proc("launcher", grandchild.pid, port, ""), port)
        assert not procs.listens(Proc("launcher", grandchild.pid, port + 1, ""), port + 1)
    finally:
        os.killpg(grandchild.pid, signal.SIGKILL)
        grandchild.wait()


def test_a_function_whose_port_another_process_answers_is_not_ready(tmp_path) -> None:
    from infra.local import readiness

    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
    )
    try:
        with socket.socket() as theirs:
            theirs.bind((procs.HOST, 0))
            theirs.listen()
            port = theirs.getsockname()[1]
            proc = Proc("janitor", child.pid, port, str(tmp_path / "janitor.log"))
            with pytest.raises(procs.PortTaken, match=f"port {port} answers, but not from"):
                readiness.wait_ready("janitor", proc, timeout=5)
    finally:
        child.kill()
        child.wait()
