"""How the launcher finds and starts the emulators it does not build:
the Cloud SDK's root, and the Auth emulator's preload."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.local import launch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_sdk_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch, "_SDK_ROOT", None)
    monkeypatch.delenv("CLOUDSDK_ROOT_DIR", raising=False)


def test_the_sdk_root_is_read_from_the_gcloud_on_path_without_running_it(
    fresh_sdk_root: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdk = tmp_path / "google-cloud-sdk"
    (sdk / "bin").mkdir(parents=True)
    (sdk / "platform").mkdir()
    (sdk / "bin" / "gcloud").write_text("#!/bin/sh\nexit 1\n")
    (sdk / "bin" / "gcloud").chmod(0o755)
    linked = tmp_path / "usr-bin"
    linked.mkdir()
    (linked / "gcloud").symlink_to(sdk / "bin" / "gcloud")  # as Debian's package links it
    monkeypatch.setenv("PATH", str(linked))

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("gcloud was run")

    monkeypatch.setattr(launch.subprocess, "run", never)
    assert launch.sdk_root() == sdk


def test_without_the_sdk_layout_gcloud_is_asked(
    fresh_sdk_root: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gcloud").write_text("#!/bin/sh\necho /opt/elsewhere\n")
    (tmp_path / "gcloud").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert launch.sdk_root() == Path("/opt/elsewhere")


def test_the_auth_preload_asks_exegesis_to_compile_schemas_when_first_used(
    tmp_path: Path,
) -> None:
    # A stand-in for exegesis-express where firebase-tools would find it: the
    # preload must hand compileApi the option, and everything else unchanged.
    firebase = tmp_path / "firebase"
    fake = firebase / "node_modules" / "exegesis-express"
    fake.mkdir(parents=True)
    (firebase / "node_modules" / "firebase-tools").mkdir()
    (fake / "package.json").write_text('{"name": "exegesis-express", "main": "index.js"}')
    (fake / "index.js").write_text(
        "exports.middleware = (doc, options, done) => ({doc, options, done});\n"
    )
    shutil.copy(ROOT / launch.AUTH_PRELOAD, firebase / "lazy_schemas.cjs")
    script = (
        "const ee = require(require.resolve('exegesis-express',"
        f" {{paths: [{json.dumps(str(firebase / 'node_modules' / 'firebase-tools'))}]}}));"
        "console.log(JSON.stringify(ee.middleware('spec', {allErrors: true}, 'cb')));"
    )
    out = subprocess.run(
        ["node", "--require", str(firebase / "lazy_schemas.cjs"), "-e", script],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == {
        "doc": "spec",
        "options": {"allErrors": True, "lazyCompileValidationSchemas": True},
        "done": "cb",
    }


def test_the_auth_emulator_is_started_with_the_preload_and_the_users_node_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def spawn(name: str, argv: list[str], env: dict[str, str], *args: object, **kw: object):
        seen.update(name=name, env=env)

    monkeypatch.setattr(launch.procs, "spawn", spawn)
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=512")
    (tmp_path / launch.FIREBASE_CLI).parent.mkdir(parents=True)
    (tmp_path / launch.FIREBASE_CLI).touch()
    (tmp_path / launch.AUTH_PRELOAD).write_text("")
    launcher = launch.Launcher(tmp_path, {"GOOGLE_CLOUD_PROJECT": "demo-x"}, {}, tmp_path)
    ports = {"auth": 1, "auth_hub": 2, "auth_logging": 3}
    launcher.spawn_auth(ports)
    assert seen["env"]["NODE_OPTIONS"] == (  # type: ignore[index]
        f'--max-old-space-size=512 --require "{tmp_path / launch.AUTH_PRELOAD}"'
    )
