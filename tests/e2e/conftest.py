"""The whole local stack and a real Chromium (Debian's, driven by Playwright).

Skips, saying why, when Chromium or the web player's npm packages are not
installed (`WANT_BROWSER=1 bash infra/bootstrap.sh` installs both). The player
bundle is rebuilt first when its sources are newer, so a stale dist/ never
hides a change. Screenshots go to test-artifacts/e2e/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"


def _build_player() -> None:
    dist = WEB / "dist" / "player.js"
    sources = [p for p in (WEB / "src").rglob("*") if p.is_file()]
    stale = not dist.exists() or max(p.stat().st_mtime for p in sources) > dist.stat().st_mtime
    if not stale:
        return
    if not (WEB / "node_modules").is_dir() or shutil.which("node") is None:
        pytest.fail("web player not built and npm packages missing: run infra/bootstrap.sh")
    subprocess.run(["node", "build.mjs"], cwd=WEB, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="package")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def e2e_stack(local_stack):
    """The worker's stack (tests/conftest.py), wiped once: the browser tests
    each use campaigns of their own, so they share it as players would."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not installed (WANT_BROWSER=1 bash infra/bootstrap.sh)")
    _build_player()
    local_stack.wipe()
    return local_stack


def _control(stack, route: str, body: dict) -> None:
    req = urllib.request.Request(
        stack.env["GENAI_EMULATOR_URL"] + route,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10):
        pass


def set_latency(stack, image_s: float, video_s: float) -> None:
    """How long the media emulator takes for a still and for a clip."""
    _control(stack, "/_emulator/latency", {"image_s": image_s, "video_s": video_s})


def set_faults(stack, fault: dict) -> None:
    """Make the next calls of one method fail (docs/interface.md section 6)."""
    _control(stack, "/_emulator/faults", fault)


@pytest.fixture(scope="package")
def browser(e2e_stack):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # Playwright gives each launch a fresh temporary profile, and each
        # test its own context: no cached media, no state between users.
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield ctx
    finally:
        ctx.close()
