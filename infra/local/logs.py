"""`cutscenes local logs [--follow] [--request-id R]`: the stack's logs, merged.

Every part of the local stack writes `<log dir>/<part>.log`. The functions'
lines (and the web servers' access lines) are JSON with an RFC 3339
`timestamp`, so lines from every file can be put in one order. A line that is
not JSON (the emulators' own output) takes the time of the JSON line before
it in its file. `--request-id R` keeps only the lines that carry R or its
asset id, i.e. one request's way through render_still, animate_still, the
janitor and media_api.
"""

from __future__ import annotations

import heapq
import json
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.domain.ids import asset_id_for

POLL_S = 0.25


@dataclass(frozen=True)
class Line:
    timestamp: str
    source: str
    record: dict[str, Any] | None  # None: not a JSON line
    raw: str


def parse(source: str, raw: str, last_stamp: str) -> Line:
    try:
        record = json.loads(raw)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return Line(last_stamp, source, None, raw)
    stamp = record.get("timestamp")
    return Line(stamp if isinstance(stamp, str) else last_stamp, source, record, raw)


def read_file(path: Path, offset: int = 0, last_stamp: str = "") -> tuple[list[Line], int, str]:
    """Complete lines from `offset` on, the offset after them, the last timestamp."""
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    end = data.rfind(b"\n") + 1  # a half-written last line waits for the next read
    lines = []
    for chunk in data[:end].splitlines():
        text = chunk.decode("utf-8", "replace").rstrip()
        if text:
            line = parse(path.stem, text, last_stamp)
            last_stamp = line.timestamp
            lines.append(line)
    return lines, offset + end, last_stamp


def matches(line: Line, request_id: str | None) -> bool:
    if request_id is None:
        return True
    if line.record is None:
        return False
    return line.record.get("request_id") == request_id or line.record.get(
        "asset_id"
    ) == asset_id_for(request_id)


def merged(batches: Iterable[list[Line]]) -> Iterator[Line]:
    """Each file is in time order already; merge them (stable within a file)."""
    return heapq.merge(*batches, key=lambda line: line.timestamp)


def render(line: Line, as_json: bool) -> str:
    if as_json:
        return json.dumps(
            {
                **(line.record or {"message": line.raw, "timestamp": line.timestamp or None}),
                "source": line.source,
            }
        )
    if line.record is None:
        return f"{line.timestamp or '-':27} {line.source:<15} {line.raw}"
    rec = line.record
    ids = " ".join(f"{k}={rec[k]}" for k in ("request_id", "asset_id") if rec.get(k))
    event = rec.get("event") or ""
    return (
        f"{line.timestamp:27} {line.source:<15} {rec.get('severity', ''):<7} "
        f"{event}: {rec.get('message', '')}" + (f"  [{ids}]" if ids else "")
    )


def log_dir_of(state_dir: Path) -> Path:
    """The running stack's log directory, else the last one's: `local down`
    (and Ctrl-C on `local up`) removes stack.json but leaves the logs in
    <state_dir>/logs, and they are most wanted right then."""
    try:
        return Path(json.loads((state_dir / "stack.json").read_text())["log_dir"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    last = state_dir / "logs"
    if any(last.glob("*.log")):
        print(f"no local stack is running: its last logs, from {last}", file=sys.stderr)
        return last
    from cutscenes.args import CliError

    raise CliError(
        f"no local stack is recorded in {state_dir} and no logs are left in {last}: "
        "run `cutscenes local up --detach` first"
    )


def show(
    state_dir: Path,
    follow: bool = False,
    request_id: str | None = None,
    as_json: bool = False,
    out: Any = None,
    stop: threading.Event | None = None,
) -> int:
    """Print the merged lines; with `follow`, new ones as they come until Ctrl-C
    (or `stop` is set)."""
    out = out or sys.stdout
    stop = stop or threading.Event()
    log_dir = log_dir_of(state_dir)
    offsets: dict[Path, tuple[int, str]] = {}

    def drain() -> None:
        batches = []
        for path in sorted(log_dir.glob("*.log")):
            offset, stamp = offsets.get(path, (0, ""))
            try:
                lines, offset, stamp = read_file(path, offset, stamp)
            except OSError:
                continue
            offsets[path] = (offset, stamp)
            batches.append([line for line in lines if matches(line, request_id)])
        for line in merged(batches):
            out.write(render(line, as_json) + "\n")
        out.flush()

    drain()
    try:
        while follow and not stop.wait(POLL_S):
            drain()
    except KeyboardInterrupt:
        pass
    return 0
