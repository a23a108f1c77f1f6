"""``visa plugins``: list the installed datasets, frame selectors, propagators and metrics."""

from __future__ import annotations

import argparse
import json
from typing import ClassVar

from visa_core.interfaces import Command
from visa_core.plugins import get_plugins


class PluginsCommand(Command):
    """List every registered component with the distribution that provides it."""

    name: ClassVar[str] = "plugins"
    help: ClassVar[str] = "list the installed components (kind, name, providing distribution)"

    @classmethod
    def configure(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")

    def run(self, args: argparse.Namespace) -> int:
        rows = [row.as_dict() for row in get_plugins().listing()]
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        print(format_table(rows, ["kind", "name", "distribution"]))
        return 0


def format_table(rows: list[dict[str, str]], columns: list[str]) -> str:
    """A plain-text table with a header row; every cell left-aligned."""
    widths = [max([len(column), *(len(str(row[column])) for row in rows)]) for column in columns]
    lines = ["  ".join(column.upper().ljust(width) for column, width in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    for row in rows:
        lines.append("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)
