"""`cutscenes prices`: the pricing catalog as JSON (or CSV, or a table for
people), with every quote, its source and date, the one we charge, and where
each model runs. Like every command's answer it goes to stdout as JSON unless
asked otherwise; notes for people go to stderr."""

from __future__ import annotations

import argparse
import json
import sys
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


CSV_HEADER = (
    "model",
    "option",
    "per",
    "charged_usd",
    "served_in",
    "called_at",
    "quote_usd",
    "source",
    "as_of",
    "third_party",
)


def csv_text(items: list[dict[str, Any]]) -> str:
    """One line per quote (an entry with three quotes is three lines), so a
    spreadsheet can sort and compare them; served_in is space-separated."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for item in items:
        fixed = [item["model"], item["option"], item["unit"], item["charged_usd"]]
        where = [" ".join(item["locations"]), item["called_at"]]
        for q in item["quotes"]:
            writer.writerow(
                [*fixed, *where, q["usd"], q["source"], q["as_of"], str(q["third_party"]).lower()]
            )
    return out.getvalue()


def cmd_prices(args: argparse.Namespace) -> int:
    cat = catalog()
    items = rows(cat)
    if args.format == "json":
        print(json.dumps({"as_of": cat.data.get("as_of"), "prices": items}, indent=2))
        return 0
    if args.format == "csv":
        sys.stdout.write(csv_text(items))
        return 0
    print(table(items))
    print(
        f"catalog as of {cat.data.get('as_of')}; where quotes disagree the highest is"
        " charged unless the entry names charge_source (MEDIA_PRICING_FILE).",
        file=sys.stderr,
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
        epilog=(
            "examples:\n  cutscenes prices > prices.json\n  cutscenes prices --format table\n"
            "  cutscenes prices --format csv > prices.csv"
        ),
    )
    prices.add_argument(
        "--format",
        choices=("json", "csv", "table"),
        default="json",
        help="json (default): the catalog and the resolved locations; csv: one line per quote; "
        "table: aligned columns for reading in a terminal",
    )
    # The default since stdout became JSON; kept so scripts written for it still run.
    prices.add_argument(
        "--json",
        dest="format",
        action="store_const",
        const="json",
        help="the same as --format json (the default)",
    )
    # Only the catalog and the settings: no stack or credentials to check.
    prices.set_defaults(func=cmd_prices, needs_backend=False)
