"""The dependency rule (docs/decisions/0014-layers.md), checked on every import,
including the ones inside functions.

    core <- domain <- store <- pipeline <- api
                       ^          ^
                       +---- client <- aidm   (the SDK AIDM installs)

(client uses pipeline for one thing: `MediaClient.rewind` runs the owner's
hide, the same code as the API's rewind route and the CLI's.)

A layer imports only itself and the layers its row in LAYERS names. Nothing in
the product package imports the CLI, the local stack, the benchmarks or the
tests; the functions import only the product. Cloud SDKs are store's business:
the rest of the product reaches Firestore, Storage, Pub/Sub and Vertex through it.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

LAYERS: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "domain": frozenset({"core"}),
    "store": frozenset({"core", "domain"}),
    "pipeline": frozenset({"core", "domain", "store"}),
    "api": frozenset({"core", "domain", "store", "pipeline"}),
    "client": frozenset({"core", "domain", "store", "pipeline"}),
    "aidm": frozenset({"core", "domain", "store", "client"}),
}
OUTSIDE_PRODUCT = ("cutscenes", "infra", "bench", "tests", "functions")
# Third-party packages that talk to a cloud service, by layer allowed to import them.
CLOUD_SDKS = ("google", "firebase_admin")
CLOUD_SDK_LAYERS = frozenset({"store"})
# The exceptions, each for a reason:
CLOUD_SDK_FILES = {
    # verifying a Firebase ID token is the HTTP API's door
    "shared/api/auth.py",
    # AIDM's tools are declared in google-genai's own types (AIDM calls Gemini with them)
    "shared/aidm/declarations.py",
    "shared/aidm/turn.py",
}
# The SDK singletons are store's own: other layers ask store for what they need.
STORE_PRIVATE = ("shared.store.connections",)
PURE_LAYERS = frozenset({"core", "domain"})
NOT_PURE = ("flask", "httpx", "requests", "functions_framework")


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, absolute names only."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
            # `from shared import store` names a layer as a module
            if node.module == "shared":
                found += [(node.lineno, f"shared.{a.name}") for a in node.names]
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "shared" and len(parts) > 1 and parts[1] in LAYERS else None


def violations(root: Path) -> list[str]:
    out = []
    for path in sorted((root / "shared").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        layer = layer_of(".".join(path.relative_to(root).with_suffix("").parts))
        for line, module in imports(path):
            top = module.split(".")[0]
            where = f"{rel}:{line} imports {module}"
            if top in OUTSIDE_PRODUCT:
                out.append(f"{where}: the product package never imports {top}/")
            elif top == "shared" and layer is None:
                continue  # shared/__init__.py
            elif top == "shared":
                target = layer_of(module)
                if target is None:
                    out.append(f"{where}: import a layer's module, not the package root")
                elif target != layer and target not in LAYERS[layer]:
                    out.append(
                        f"{where}: {layer} may import only "
                        f"{', '.join(sorted(LAYERS[layer] | {layer}))}"
                    )
                elif module.startswith(STORE_PRIVATE) and layer != "store":
                    out.append(f"{where}: the SDK clients are store's own; use a store module")
            elif top in CLOUD_SDKS and layer not in CLOUD_SDK_LAYERS and rel not in CLOUD_SDK_FILES:
                out.append(f"{where}: cloud SDKs are used only in shared/store/")
            elif top in NOT_PURE and layer in PURE_LAYERS:
                out.append(f"{where}: {layer} does no I/O")
    for path in sorted((root / "functions").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for line, module in imports(path):
            if module.split(".")[0] in OUTSIDE_PRODUCT:
                out.append(f"{rel}:{line} imports {module}: a function deploys only shared/")
    return out


def test_the_tree_keeps_the_rule() -> None:
    assert violations(REPO) == []


def test_every_product_module_is_in_a_layer() -> None:
    loose = [
        p.relative_to(REPO).as_posix()
        for p in (REPO / "shared").glob("*.py")
        if p.name != "__init__.py"
    ]
    unknown = [
        p.name
        for p in (REPO / "shared").iterdir()
        if p.is_dir() and p.name not in LAYERS and p.name != "__pycache__"
    ]
    assert loose == [] and unknown == []


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for part in ("shared", "functions"):
        shutil.copytree(
            REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__", "*.json")
        )
    return root


def test_a_forbidden_import_is_caught(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    bad = {
        "shared/domain/ids.py": "from shared.store import ledger\n",
        "shared/store/ledger.py": "from shared.pipeline import render\n",
        "shared/pipeline/render.py": "def f():\n    from infra.local import stack\n",
        "shared/api/app.py": "from shared.store.connections import firestore_client\n",
        "shared/client/media_client.py": "import shared.api.app\n",
        "shared/pipeline/janitor.py": "from google.cloud import firestore\n",
        "shared/core/log.py": "import httpx\n",
        "functions/janitor/main.py": "import bench.common\n",
    }
    for rel, line in bad.items():
        path = root / rel
        path.write_text(path.read_text() + "\n" + line)
    found = violations(root)
    assert len(found) == len(bad), found
    for rel in bad:
        assert any(v.startswith(rel) for v in found), rel
