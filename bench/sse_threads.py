"""Open event streams must not starve media_api's other requests.

media_api runs as in the cloud: Functions Framework under gunicorn's gthread
worker, THREADS and concurrency as Terraform sets them (infra/local/sizing.py).
This opens as many event streams as media_api's concurrency (several users,
each within MEDIA_API_SSE_PER_USER), then times `GET /campaigns/{cid}/me`
(`--requests` of them, one after another, each on a new connection), and the
same with no stream open, side by side. Streams past the instance's cap are
answered 503 at once (shared/api/stream_slots.py); how many were admitted
and refused is printed too.

    .venv/bin/python -m bench.sse_threads [--requests 100] [--threads N] [--cap N]

`--threads` / `--cap` restart media_api with another THREADS or
MEDIA_API_SSE_PER_INSTANCE (e.g. `--threads 4 --cap 4`: the cloud's default
threads with no cap, where GET /me waits for a stream to end: counted as
timed out after `--timeout` seconds).
"""

from __future__ import annotations

import argparse
import http.client
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from bench.common import ROOT, Table, start_stack, summary

CAMPAIGN = "bench-sse"
READER = "reader"
TARGET_P95_MS = 200.0


class Stream:
    """One open `GET .../events`, read up to its first block."""

    def __init__(self, base: str, token: str, timeout: float) -> None:
        url = urlsplit(base)
        started = time.monotonic()
        self.conn = http.client.HTTPConnection(
            url.hostname or "127.0.0.1", url.port, timeout=timeout
        )
        self.conn.request(
            "GET", f"/campaigns/{CAMPAIGN}/events", headers={"Authorization": f"Bearer {token}"}
        )
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        if self.status == 200:
            self.resp.readline()  # "retry: ...": the stream is open and holds its thread
        self.answer_ms = (time.monotonic() - started) * 1000

    def close(self) -> None:
        self.resp.close()
        self.conn.close()


def me_ms(base: str, token: str, timeout: float) -> float | None:
    """One GET /me's latency in ms; None if it did not answer 200 in time."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.request(
            "GET", f"/campaigns/{CAMPAIGN}/me", headers={"Authorization": f"Bearer {token}"}
        )
        resp = conn.getresponse()
        resp.read()
        return (time.monotonic() - started) * 1000 if resp.status == 200 else None
    except TimeoutError:
        return None
    finally:
        conn.close()


def measure(base: str, token: str, n: int, timeout: float) -> tuple[list[float], int]:
    values, missed = [], 0
    for _ in range(n):
        ms = me_ms(base, token, timeout)
        if ms is None:
            missed += 1
        else:
            values.append(ms)
    return values, missed


def run(table: Table, stack, requests: int, timeout: float) -> None:
    from infra.local import sizing
    from shared.client import configure_campaign
    from shared.core.settings import get_settings
    from tests.auth_tokens import id_token

    concurrency = sizing.read(ROOT)["media_api"].concurrency
    per_user = get_settings().MEDIA_API_SSE_PER_USER
    users = [f"viewer{i:02d}" for i in range(-(-concurrency // per_user))]
    configure_campaign(CAMPAIGN, enabled=True, budget_usd=1.0, members=[*users, READER])
    tokens = {u: id_token(stack, u) for u in [*users, READER]}  # signed in before timing
    base = stack.env["MEDIA_API_URL"]
    measure(base, tokens[READER], 5, timeout)  # warm: imports, clients, the first reads

    quiet, quiet_missed = measure(base, tokens[READER], requests, timeout)
    owners = [users[i // per_user] for i in range(concurrency)]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        streams = list(pool.map(lambda u: Stream(base, tokens[u], timeout + 60), owners))
    try:
        admitted = [s for s in streams if s.status == 200]
        refused = [s for s in streams if s.status == 503]
        busy, busy_missed = measure(base, tokens[READER], requests, timeout)
    finally:
        for stream in streams:
            stream.close()

    name = "sse threads"
    table.add(name, "media_api concurrency (streams opened)", concurrency)
    table.add(name, "streams admitted (200)", len(admitted))
    table.add(name, "streams refused (503)", len(refused))
    if refused:
        table.add(name, "refused stream answered, max ms", max(s.answer_ms for s in refused))
    q, b = summary(quiet), summary(busy)
    table.add(name, f"GET /me x{requests} no streams p50 ms", q["p50"])
    table.add(name, f"GET /me x{requests} no streams p95 ms", q["p95"])
    table.add(name, f"GET /me x{requests} {len(admitted)} streams p50 ms", b["p50"])
    met = busy_missed == 0 and b["p95"] <= TARGET_P95_MS
    table.add(
        name,
        f"GET /me x{requests} {len(admitted)} streams p95 ms",
        b["p95"],
        f"<= {TARGET_P95_MS:g} ms",
        met,
    )
    table.add(
        name,
        f"GET /me unanswered in {timeout:g} s (no streams / streams)",
        f"{quiet_missed} / {busy_missed}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sse_threads", description=__doc__)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--threads", type=int, help="media_api's THREADS (default: Terraform's)")
    parser.add_argument("--cap", type=int, help="MEDIA_API_SSE_PER_INSTANCE (default: derived)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds one GET /me may take")
    args = parser.parse_args(argv)
    table = Table()
    stack = start_stack()
    try:
        extra = {}
        if args.threads is not None:
            extra["THREADS"] = str(args.threads)
        if args.cap is not None:
            extra["MEDIA_API_SSE_PER_INSTANCE"] = str(args.cap)
        if extra:
            stack.restart_function("media_api", extra)
        print("== GET /me with media_api's concurrency in open event streams", flush=True)
        run(table, stack, args.requests, args.timeout)
    finally:
        stack.stop()
    path = table.write("sse-threads")
    print(f"results: {path}")
    return 0 if all(r["met"] is not False for r in table.rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
