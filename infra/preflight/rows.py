"""One row per check, and where the checks run."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

# Set by `cutscenes local up --detach`; any of them means the local stack.
EMULATOR_VARS = (
    "FIRESTORE_EMULATOR_HOST",
    "PUBSUB_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "GENAI_EMULATOR_URL",
)


@dataclass(frozen=True)
class Row:
    area: str  # models, iam, topics, subscriptions, notification, indexes, ttl
    check: str  # what is checked, one line
    ok: bool
    detail: str  # what was seen
    fix: str = ""  # what to do about a failure ("" when ok)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def passed(area: str, check: str, detail: str) -> Row:
    return Row(area, check, True, detail)


def failed(area: str, check: str, detail: str, fix: str) -> Row:
    return Row(area, check, False, detail, fix)


class Unusable(Exception):
    """The environment names half a local stack: say which, run nothing."""


def is_local(env: Mapping[str, str] = os.environ) -> bool:
    """The local stack when any emulator is named; then every one must be,
    or a check would reach a real project while others reach emulators."""
    named = [v for v in EMULATOR_VARS if env.get(v)]
    if named and len(named) < len(EMULATOR_VARS):
        missing = sorted(set(EMULATOR_VARS) - set(named))
        raise Unusable(
            f"{', '.join(named)} set but not {', '.join(missing)}: point every one at the "
            "local stack (`cutscenes local up --detach`) or unset them for a real project"
        )
    return bool(named)


def table(rows: list[Row]) -> str:
    """Aligned columns for a terminal; the fix on its own line under a failure."""
    lines = []
    width = max((len(r.check) for r in rows), default=0)
    for r in rows:
        mark = "ok  " if r.ok else "FAIL"
        lines.append(f"{mark}  {r.area:<13} {r.check:<{width}}  {r.detail}")
        if not r.ok:
            lines.append(f"{'':6}{'':13} -> {r.fix}")
    return "\n".join(lines)
