"""Build the one deployable archive that every Cloud Function is built from.

    python -m infra.bundle --out build/

Cloud Functions (2nd gen) loads `main.py` from the root of the source and looks
up `build_config.entry_point` on it. To serve several functions from one
archive, the bundle's `main.py` is generated: it exposes every
`functions/<name>/main.py:<name>` under its name, importing each on first
access so an instance only loads the function it serves. Beside it go the
`functions/` and `shared/` packages and a `requirements.txt` pinning the whole
runtime closure (pyproject.toml's base dependencies and the `functions` extra)
at the versions of the lock, requirements/constraints.txt: what CI tested is
what ships, whatever else the building venv holds.

The archive is deterministic (sorted entries, fixed timestamps and modes), so
the same tree and the same lock give the same bytes. It is named
`cutscenes-<sha256[:16]>.zip`; Terraform names the uploaded object by the full
hash, so any change redeploys and no change is a no-op.

Prints the archive's path and SHA-256 (or one JSON object with --json).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import json
import sys
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra import closure, lock

REPO_ROOT = Path(__file__).resolve().parents[1]

# Source packages copied into the archive, relative to the repo root.
PACKAGES = ("shared", "functions")
# The extras deployed beside the base dependencies, and the one that never is.
RUNTIME_EXTRAS = ("functions",)
LOCAL_EXTRA = "local"
LOCK_PATH = Path("requirements") / "constraints.txt"
SKIP_DIRS = frozenset(
    {
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".venv",
        "node_modules",
        "tests",
        "test",
    }
)
SKIP_SUFFIXES = (".pyc", ".pyo", ".swp")
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16
FIRST_PARTY = frozenset({*PACKAGES, "main"})
METADATA_DIRS = (".dist-info", ".egg-info", ".data")


class BundleError(Exception):
    """The tree cannot be bundled as it is."""


@dataclass
class Bundle:
    path: Path
    sha256: str
    size: int
    entry_points: list[str]
    requirements: list[str]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "bytes": self.size,
            "entry_points": self.entry_points,
            "requirements": self.requirements,
            "warnings": self.warnings,
        }


def discover_entry_points(root: Path) -> list[str]:
    """Every functions/<name>/main.py, which must define <name> at top level."""
    names = []
    for main_py in sorted((root / "functions").glob("*/main.py")):
        name = main_py.parent.name
        if not name.isidentifier():
            raise BundleError(f"{main_py}: directory name {name!r} is not a Python identifier")
        tree = ast.parse(main_py.read_bytes(), filename=str(main_py))
        defined = {
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        defined |= {
            t.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        if name not in defined:
            raise BundleError(
                f"{main_py} does not define {name}(); the entry point must be "
                "named after its directory"
            )
        names.append(name)
    return names


def source_files(root: Path) -> list[tuple[str, bytes]]:
    files = []
    for package in PACKAGES:
        base = root / package
        if not base.is_dir():
            raise BundleError(f"{base} is missing")
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(root)
            if any(part in SKIP_DIRS for part in rel.parts) or path.name.endswith(SKIP_SUFFIXES):
                continue
            if path.is_symlink() or not path.is_file():
                continue
            files.append((rel.as_posix(), path.read_bytes()))
    return files


def runtime_roots(root: Path) -> list[Requirement]:
    """pyproject's base dependencies and the `functions` extra."""
    return closure.roots(root, RUNTIME_EXTRAS)


def local_only(root: Path) -> frozenset[str]:
    """What the `local` extra names itself (Pillow, imageio-ffmpeg, the fake-gcs wrapper)."""
    project = closure.project(root)
    optional = project.get("optional-dependencies", {})
    own = canonicalize_name(str(project["name"]))
    names = {canonicalize_name(Requirement(spec).name) for spec in optional.get(LOCAL_EXTRA, [])}
    return frozenset(names - {own})


def pin_closure(roots: list[Requirement], root: Path) -> dict[str, str]:
    """Canonical name -> locked version for the roots and everything they need.

    The closure is walked through the installed metadata, so the venv must hold
    the locked versions (infra/bootstrap.sh installs them): a package missing
    from the lock, or installed at another version, stops the build."""
    try:
        installed = closure.closure(roots)
        pins = lock.read_lock(root / LOCK_PATH)
    except (closure.ClosureError, lock.LockError) as exc:
        raise BundleError(str(exc)) from None
    wrong = [
        f"{name} {version} (lock: {pins.get(name, 'absent')})"
        for name, version in sorted(installed.items())
        if pins.get(name) != version
    ]
    if wrong:
        raise BundleError(
            "the venv does not hold the locked versions (run infra/bootstrap.sh, "
            "or python -m infra.lock after changing pyproject.toml): " + ", ".join(wrong)
        )
    return {name: pins[name] for name in installed}


def render_requirements(pinned: dict[str, str]) -> list[str]:
    return [f"{name}=={version}" for name, version in sorted(pinned.items())]


def render_main(entry_points: list[str]) -> str:
    table = "".join(f'    "{n}": "functions.{n}.main",\n' for n in entry_points)
    return f'''"""Every function's entry point (generated by infra/bundle.py; do not edit).

Cloud Functions imports this file and looks up build_config.entry_point on it.
Each entry point is imported on first access, so an instance loads only the
function it serves and one broken function cannot stop the others starting.
"""

import importlib
from typing import Any

ENTRY_POINTS = {{
{table}}}


def __getattr__(name: str) -> Any:
    module = ENTRY_POINTS.get(name)
    if module is None:
        raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
    function = getattr(importlib.import_module(module), name)
    globals()[name] = function
    return function


def __dir__() -> list[str]:
    return sorted([*globals(), *ENTRY_POINTS])
'''


# ---- which distribution provides an imported module --------------------------


def _module_providers(project: str) -> dict[str, set[str]]:
    """Dotted module path -> canonical names of installed distributions with files there.

    The project's own (editable) install is left out: infra/ is not bundled."""
    providers: dict[str, set[str]] = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"] or "")
        if name == project:
            continue
        for file in dist.files or []:
            parts = file.parts
            if not parts or parts[0] == ".." or parts[0].endswith(METADATA_DIRS):
                continue
            is_module = parts[-1].endswith((".py", ".so", ".pyd"))
            dotted = [*parts[:-1], parts[-1].split(".")[0]] if is_module else parts[:-1]
            for i in range(1, len(dotted) + 1):
                providers.setdefault(".".join(dotted[:i]), set()).add(name)
    return providers


def _providers_of(module: str, providers: dict[str, set[str]]) -> set[str]:
    """Distributions providing the longest installed prefix of a dotted name."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        found = providers.get(".".join(parts[:i]))
        if found:
            return found
    return set()


def _bundled(module: str, bundled: set[str]) -> bool:
    """A first-party import resolves to a bundled file. `from a.b import c` names a
    module a.b.c or an attribute of a.b, so the parent being there is enough."""
    parts = module.split(".")
    for candidate in (parts, parts[:-1]):
        path = "/".join(candidate)
        if candidate and (
            f"{path}.py" in bundled
            or f"{path}/__init__.py" in bundled
            or any(name.startswith(f"{path}/") for name in bundled)
        ):
            return True
    return False


@dataclass
class _Import:
    module: str
    where: str
    top_level: bool


def _imports(rel: str, source: bytes) -> list[_Import]:
    """Absolute imports in a file; `top_level` is False inside functions and try blocks."""
    tree = ast.parse(source, filename=rel)
    found: list[_Import] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            where = f"{rel}:{getattr(child, 'lineno', 0)}"
            if isinstance(child, ast.Import):
                found.extend(_Import(a.name, where, top_level) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.extend(
                    _Import(f"{child.module}.{a.name}", where, top_level) for a in child.names
                )
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Try)
            visit(child, top_level and not nested)

    visit(tree, True)
    return found


def check_imports(
    files: list[tuple[str, bytes]],
    pinned: dict[str, str],
    declared: set[str],
    project: str,
    local: frozenset[str],
) -> tuple[list[str], list[str]]:
    """Errors: bundled code imports something the deployed function will not have.
    Warnings: code only the local tooling can run, and direct use of transitive dependencies."""
    providers = _module_providers(project)
    bundled = {rel for rel, _ in files}
    errors: list[str] = []
    warnings: list[str] = []
    undeclared: dict[str, list[str]] = {}
    for rel, source in files:
        if not rel.endswith(".py"):
            continue
        for imp in _imports(rel, source):
            top = imp.module.split(".")[0]
            if top in PACKAGES:
                if not _bundled(imp.module, bundled):
                    errors.append(f"{imp.where}: imports {imp.module}, which is not in the bundle")
                continue
            if top in sys.stdlib_module_names or top in FIRST_PARTY or top == "__future__":
                continue
            dists = _providers_of(imp.module, providers)
            if dists & pinned.keys():
                if not dists & declared:
                    for dist in sorted(dists & pinned.keys()):
                        undeclared.setdefault(dist, []).append(imp.where)
            elif dists & local:
                names = "/".join(sorted(dists & local))
                errors.append(
                    f"{imp.where}: imports {imp.module}, but {names} is local-only and not deployed"
                )
            elif dists:
                errors.append(
                    f"{imp.where}: imports {imp.module} from {'/'.join(sorted(dists))}, "
                    "which is not a runtime dependency in pyproject.toml"
                )
            elif imp.top_level:
                errors.append(
                    f"{imp.where}: imports {imp.module}, which nothing in the bundle provides"
                )
            else:
                warnings.append(
                    f"{imp.where}: lazily imports {imp.module}, which is not in the "
                    "bundle (fine only if that code path never runs in the cloud)"
                )
    warnings.extend(
        f"{dist} is imported directly ({', '.join(where)}) but pyproject.toml only "
        "gets it transitively; declare it to keep it pinned on purpose"
        for dist, where in sorted(undeclared.items())
    )
    return errors, warnings


# ---- the archive --------------------------------------------------------------


def write_zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.external_attr = FILE_MODE
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def build(out_dir: Path, root: Path = REPO_ROOT) -> Bundle:
    entry_points = discover_entry_points(root)
    files = source_files(root)
    try:
        roots = runtime_roots(root)
    except closure.ClosureError as exc:
        raise BundleError(str(exc)) from None
    pinned = pin_closure(roots, root)
    project = canonicalize_name(str(closure.project(root)["name"]))
    declared = {str(canonicalize_name(r.name)) for r in roots}
    errors, warnings = check_imports(files, pinned, declared, project, local_only(root))
    if errors:
        raise BundleError("the bundle would not run in the cloud:\n  " + "\n  ".join(errors))
    if not entry_points:
        warnings.append("functions/ has no <name>/main.py: the bundle exposes no entry point")
    requirements = render_requirements(pinned)
    header = (
        "# Generated by infra/bundle.py: the runtime closure of pyproject.toml's\n"
        "# dependencies and [functions] extra, pinned at the versions of the lock\n"
        "# (requirements/constraints.txt) that CI tested.\n"
    )
    entries = [
        *files,
        ("main.py", render_main(entry_points).encode()),
        ("requirements.txt", (header + "\n".join(requirements) + "\n").encode()),
    ]
    names = [name for name, _ in entries]
    if len(names) != len(set(names)):
        raise BundleError("duplicate archive entries")
    data = write_zip(entries)
    digest = hashlib.sha256(data).hexdigest()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"cutscenes-{digest[:16]}.zip"
    tmp = path.with_suffix(".zip.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return Bundle(
        path=path,
        sha256=digest,
        size=len(data),
        entry_points=entry_points,
        requirements=requirements,
        warnings=warnings,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.bundle",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("build"), help="output directory")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root to bundle")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        bundle = build(args.out, args.root.resolve())
    except BundleError as exc:
        print(f"bundle: {exc}", file=sys.stderr)
        return 1
    for warning in bundle.warnings:
        print(f"bundle: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(bundle.as_dict()))
    else:
        print(bundle.path)
        print(bundle.sha256)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
