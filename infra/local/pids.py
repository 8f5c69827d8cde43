"""What the kernel says a PID is now, through psutil: its command line, its
start time, its process group, whether it still lives. procs.py checks these
before every signal (a PID the kernel reused for something else is never
hit); kept apart so procs.py stays about spawning and stopping.
"""

from __future__ import annotations

import os

import psutil

_GONE = (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
# Start times are whole clock ticks (1/100 s): equal within half of one.
_SAME_START_S = 0.005


def _read_cmdline(pid: int) -> list[str] | None:
    try:
        return psutil.Process(pid).cmdline()
    except psutil.ZombieProcess:
        return []  # exited, not yet reaped: no command line any more
    except (psutil.Error, ValueError):
        return None


def _read_stat(pid: int) -> tuple[str, int, float] | None:
    """(status, pgid, start time) of a live process, or None.

    The start time is in seconds since boot, not since the epoch: psutil's
    `create_time` adds the boot time the kernel reports now, which moves
    whenever the wall clock is stepped. These machines are virtual machines
    that get paused and resumed (the kernel logs "crng reseeded due to
    virtual machine fork"); after one such resume mid-run every process's
    epoch start time had moved, none was recognised as the stack's own any
    more, and none was stopped (84 processes left running). psutil keys a
    process's own identity on the same monotonic start (`Process._get_ident`)."""
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            status, pgid = process.status(), os.getpgid(pid)
            for _ in range(3):
                boot = psutil.boot_time()
                created = process.create_time() - boot
                if psutil.boot_time() == boot:  # no step between the two reads
                    break
            return status, pgid, created
    except (psutil.Error, OSError, ValueError):
        return None


def identity(pid: int) -> tuple[list[str] | None, float | None]:
    stat = _read_stat(pid)
    return _read_cmdline(pid), (stat[2] if stat else None)


def same_start(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) < _SAME_START_S


def is_alive(pid: int) -> bool:
    stat = _read_stat(pid)
    return stat is not None and stat[0] not in _GONE


def group_members(pgid: int) -> list[int]:
    """Live PIDs whose process group is pgid."""
    out = []
    for pid in psutil.pids():
        try:
            if os.getpgid(pid) != pgid:
                continue
        except OSError:
            continue
        if is_alive(pid):
            out.append(pid)
    return out
