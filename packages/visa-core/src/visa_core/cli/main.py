"""Entry point of the ``visa`` command: one sub-command per registered ``command`` component."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from visa_core.errors import VisaError
from visa_core.plugins import get_plugins


def build_parser() -> argparse.ArgumentParser:
    """The parser with every installed sub-command."""
    parser = argparse.ArgumentParser(
        prog="visa",
        description="VISA: reasoning video object segmentation with a large language model.",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for entry in get_plugins().entries("command"):
        command_class = entry.cls
        sub = subcommands.add_parser(
            entry.name,
            help=command_class.help,
            description=command_class.help,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        command_class.configure(sub)
        sub.set_defaults(command_class=command_class)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; errors of the VISA packages exit with 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.command_class().run(args) or 0)
    except VisaError as error:
        print(f"visa {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"visa {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
