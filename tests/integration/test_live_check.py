"""The operators' live check: its dry run through the local stack, and a
clear one-line refusal without credentials."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "infra.live_check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dry_run_makes_a_still_and_a_clip_through_the_pipeline_code(stack):
    env = {**os.environ, **stack.env, "CUTSCENES_NO_LOCAL": "1"}
    done = run(["--dry-run", "--quality", "standard"], env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    [still] = [line for line in lines if line.startswith("still:")]
    [clip] = [line for line in lines if line.startswith("clip: veo")]
    bucket = stack.env["MEDIA_BUCKET"]
    assert f"gemini-3.1-flash-image-preview at global -> gs://{bucket}/live-check/" in still
    assert still.endswith("$0.067")
    assert "veo-3.1-fast-generate-001 at us-central1 -> gs://" in clip
    assert "/sample_0.mp4" in clip and clip.endswith("$0.6")
    assert lines[-1] == "total: $0.667"


def test_without_credentials_it_refuses_in_one_line(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "NO_GCE_CHECK": "True",
        "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "missing.json"),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
    }
    done = run([], env)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("live check: ") and "Credentials" in line
    assert "Traceback" not in done.stderr
    env.pop("GOOGLE_APPLICATION_CREDENTIALS")
    done = run([], env)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
    assert "gcloud auth application-default login" in done.stderr


def test_emulator_variables_are_refused_outside_dry_run(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GENAI_EMULATOR_URL": "http://127.0.0.1:9",
    }
    done = run([], env)
    assert done.returncode == 2 and "--dry-run" in done.stderr
    assert len(done.stderr.splitlines()) == 1
