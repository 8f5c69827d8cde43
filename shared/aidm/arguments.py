"""A model's function call, read: its name and arguments, the names it uses
looked up in the turn's context (characters, their sheets), each checked."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from shared.aidm.context import TurnContext
from shared.aidm.refusals import Refusal
from shared.core import log
from shared.domain.references import reference_name
from shared.domain.request import MAX_REFERENCE_IMAGES


def name_and_args(call: Any) -> tuple[str, dict[str, Any]]:
    function_call = getattr(call, "function_call", None)  # a Part
    if function_call is not None:
        call = function_call
    if isinstance(call, Mapping):
        name, args = call.get("name"), call.get("args")
    else:
        name, args = getattr(call, "name", None), getattr(call, "args", None)
    if args is None:
        args = {}
    if not isinstance(name, str) or not isinstance(args, Mapping):
        raise Refusal(
            "invalid_call", "The function call has no name or its arguments are not an object."
        )
    return name, dict(args)


def text_arg(
    args: Mapping[str, Any], key: str, limit: int, tool: str, required: bool = True
) -> str | None:
    value = args.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Refusal(
                "invalid_args",
                f"{tool} needs {key} (non-empty text). Call it again with {key}, or skip it.",
            )
        return None
    if not isinstance(value, str):
        raise Refusal("invalid_args", f"{key} must be text, not {type(value).__name__}.")
    value = value.strip()
    if len(value) > limit:
        raise Refusal(
            "invalid_args",
            f"{key} is {len(value)} characters; keep it under {limit} and call {tool} again.",
        )
    return value


def norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def lookup(mapping: Mapping[str, Any], name: str) -> tuple[str, Any] | None:
    wanted = norm(name)
    for key, value in mapping.items():
        if norm(key) == wanted:
            return key, value
    return None


def names_list(names: Sequence[str], limit: int = 12) -> str:
    shown = sorted(names)[:limit]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(shown) + more


def references(ctx: TurnContext, names: Sequence[str], bucket: str) -> list[str]:
    """Model sheets of these characters, valid for this campaign, at most six."""
    out: list[str] = []
    for name in names:
        found = lookup(ctx.reference_images, name)
        for uri in (found[1] if found else ()) or ():
            if reference_name(uri, bucket, ctx.campaign_id) is None:
                log.warning(
                    "aidm_reference_dropped",
                    "reference image not under the campaign's refs/ prefix",
                    campaign_id=ctx.campaign_id,
                )
                continue
            if uri not in out:
                out.append(uri)
    return out[:MAX_REFERENCE_IMAGES]


def cast_in(ctx: TurnContext, text: str) -> list[str]:
    """Characters with descriptions or sheets whose names the prompt mentions."""
    known = list(ctx.npcs) + [
        n for n in [*ctx.party, *ctx.reference_images] if lookup(ctx.npcs, n) is None
    ]
    known = list(dict.fromkeys(known))
    low = text.casefold()
    return [n for n in known if re.search(r"(?<!\w)" + re.escape(n.casefold()) + r"(?!\w)", low)]


def characters_arg(args: Mapping[str, Any]) -> list[str] | None:
    value = args.get("characters")
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)):
        raise Refusal("invalid_args", "characters must be a list of names.")
    names = [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return names[:12]


def shot_names(names: Sequence[str]) -> list[str]:
    """`characters` for the request: the campaign's registered sheets of these
    ride along (the pipeline adds them, within six references in all)."""
    return list(dict.fromkeys(n[:200] for n in names))[:MAX_REFERENCE_IMAGES]
