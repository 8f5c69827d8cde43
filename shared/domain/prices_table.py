"""`cutscenes prices`: the pricing catalog as a table (or JSON), with every
quote, its source and date, the one we charge, and where each model runs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from shared.domain.locations import location_for
from shared.domain.pricing import Catalog, catalog, charged, quotes

UNITS = {
    "images": ("usd_per_image", "image"),
    "image_inputs": ("usd_per_million_tokens", "1M input tokens"),
    "videos": ("usd_per_second", "second"),
}


def rows(cat: Catalog) -> list[dict[str, Any]]:
    out = []
    for section, (field, unit) in UNITS.items():
        for entry in cat.data.get(section) or []:
            option = {
                "images": lambda e: e["size"],
                "image_inputs": lambda e: f"reference ({e['tokens_per_image']} tokens)",
                "videos": lambda e: f"{e['resolution']}{' +audio' if e['audio'] else ''}",
            }[section](entry)
            out.append(
                {
                    "model": entry["model"],
                    "option": option,
                    "unit": unit,
                    "charged_usd": str(charged(entry, field)),
                    "locations": cat.locations(entry["model"]),
                    "called_at": location_for(entry["model"]),
                    "quotes": [
                        {
                            "usd": str(q[field]),
                            "source": q.get("source", ""),
                            "as_of": q.get("as_of", ""),
                            "third_party": bool(q.get("third_party")),
                        }
                        for q in quotes(entry, field)
                    ],
                }
            )
    return out


def table(items: list[dict[str, Any]]) -> str:
    header = (
        "model",
        "option",
        "charged",
        "per",
        "served in",
        "called at",
        "quotes (source, as of)",
    )
    lines = []
    for item in items:
        quoted = "; ".join(
            f"${q['usd']}{' third-party' if q['third_party'] else ''} ({q['source']}, {q['as_of']})"
            for q in item["quotes"]
        )
        lines.append(
            (
                item["model"],
                item["option"],
                f"${item['charged_usd']}",
                item["unit"],
                ",".join(item["locations"]) or "-",
                item["called_at"],
                quoted,
            )
        )
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header) - 1)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    return "\n".join(fmt.format(*row) for row in [header, *lines])


def cmd_prices(args: argparse.Namespace) -> int:
    cat = catalog()
    items = rows(cat)
    if args.json:
        print(json.dumps({"as_of": cat.data.get("as_of"), "prices": items}, indent=2))
        return 0
    print(table(items))
    print(
        f"\ncatalog as of {cat.data.get('as_of')}; where quotes disagree the highest is"
        " charged unless the entry names charge_source (MEDIA_PRICING_FILE)."
    )
    return 0


def add_parser(sub: Any) -> None:
    import argparse

    what = (
        "the pricing catalog: every model, resolution and quote (USD), its source and "
        "date, and where each model is served and called; reads no stack"
    )
    prices = sub.add_parser(
        "prices",
        help=what,
        description=what,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  cutscenes prices\n  cutscenes prices --json > prices.json",
    )
    prices.add_argument(
        "--json", action="store_true", help="print the catalog and the resolved locations as JSON"
    )
    # Only the catalog and the settings: no stack or credentials to check.
    prices.set_defaults(func=cmd_prices, needs_backend=False)
