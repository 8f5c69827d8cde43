"""Which packages an audience of pyproject.toml gets: its requirement closure.

`roots(root, extras)` reads the project's base dependencies plus the named
extras (following self-references such as `aidm-cutscenes[functions]`);
`closure(...)` walks them through the installed distributions' metadata, as
pip would resolve them on the functions' runtime (Python 3.11 on Linux).
The deploy bundle pins this closure from the lock; the unit tests check that
the SDK and the functions do not pull the local-only packages.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# The runtime the functions are deployed on (build_config.runtime = python311).
RUNTIME_MARKERS = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
}


class ClosureError(Exception):
    """A requirement is not installed, or installed at a version it excludes."""


def project(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    return data


def _environment(extra: str) -> dict[str, str]:
    env: dict[str, str] = dict(default_environment())  # type: ignore[arg-type]
    env.update(RUNTIME_MARKERS)
    env["extra"] = extra
    return env


def applies(req: Requirement, extras: Iterable[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate(_environment(e)) for e in ("", *extras))


def roots(root: Path, extras: Iterable[str] = ()) -> list[Requirement]:
    """The base dependencies and those of `extras`, self-references expanded."""
    data = project(root)
    name = canonicalize_name(str(data["name"]))
    optional: dict[str, list[str]] = data.get("optional-dependencies", {})
    found: list[Requirement] = []
    todo, done = list(extras), set()
    specs = list(data.get("dependencies", []))
    while True:
        for spec in specs:
            req = Requirement(spec)
            if canonicalize_name(req.name) == name:
                todo.extend(req.extras)
            elif applies(req, ()):
                found.append(req)
        todo = [e for e in todo if e not in done]
        if not todo:
            return found
        extra = todo.pop()
        done.add(extra)
        if extra not in optional:
            raise ClosureError(f"pyproject.toml has no extra {extra!r}")
        specs = optional[extra]


def closure(reqs: list[Requirement]) -> dict[str, str]:
    """Canonical name -> installed version for `reqs` and everything they need."""
    pinned: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    queue: list[tuple[Requirement, str]] = [(r, "pyproject.toml") for r in reqs]
    while queue:
        req, wanted_by = queue.pop()
        name = canonicalize_name(req.name)
        key = (name, frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise ClosureError(
                f"{req.name} (needed by {wanted_by}) is not installed in this "
                "venv; run infra/bootstrap.sh"
            ) from None
        if not req.specifier.contains(dist.version, prereleases=True):
            raise ClosureError(
                f"{req.name} {dist.version} is installed but {wanted_by} needs {req.specifier}"
            )
        pinned[name] = dist.version
        for spec in dist.requires or []:
            dep = Requirement(spec)
            if applies(dep, req.extras):
                queue.append((dep, name))
    return pinned
