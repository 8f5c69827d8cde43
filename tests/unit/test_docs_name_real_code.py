"""The documents name modules and files that exist: a reader who follows
`shared.x.y` or `shared/x/y.py` from the README or docs/ finds it."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
# a dotted name or a path under the product package, inside backticks
DOTTED = re.compile(r"`(shared(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
PATH = re.compile(r"`(shared/[A-Za-z0-9_/]+\.(?:py|json))")
# Named as they were: decision 0014 tells what the code looked like before it.
HISTORY = {"shared/cli.py"}


def resolves(name: str) -> bool:
    """A module, or an attribute of one (`shared.client.MediaClient`)."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_named_module_and_file_exists() -> None:
    missing = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        where = doc.relative_to(REPO)
        missing += [f"{where}: {n}" for n in sorted(set(DOTTED.findall(text))) if not resolves(n)]
        missing += [
            f"{where}: {p}"
            for p in sorted(set(PATH.findall(text)))
            if not (REPO / p).exists() and p not in HISTORY
        ]
    assert not missing, missing


def test_the_check_can_fail() -> None:
    assert not resolves("shared.api.signing")
    assert resolves("shared.store.signing") and resolves("shared.client.MediaClient")
