"""Entry point of the ``visa`` command: one sub-command per registered ``command`` component.

Exit status: 0 done, 2 a named error (a ``VisaError`` or a usage error), 130 interrupted (Ctrl-C),
141 the reader of the output went away (``visa plugins --json | head``). Plugins that failed to
load are named on stderr and every other command still runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from visa_core.errors import VisaError
from visa_core.plugins import get_plugins
from visa_core.providers import install_hint

INTERRUPTED = 130
BROKEN_PIPE = 141


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
    """Parse ``argv`` and run the chosen sub-command (exit statuses in the module docstring)."""
    command = "visa"
    try:
        parser = build_parser()
        for failure in get_plugins().failures:
            print(f"visa: warning: {failure}", file=sys.stderr)
        _refuse_a_command_of_a_missing_package(argv if argv is not None else sys.argv[1:])
        args = parser.parse_args(argv)
        command = f"visa {args.command}"
        status = int(args.command_class().run(args) or 0)
        sys.stdout.flush()
        return status
    except VisaError as error:
        print(f"{command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return BROKEN_PIPE


def _refuse_a_command_of_a_missing_package(argv: Sequence[str]) -> None:
    """A built-in sub-command whose distribution is not installed names it (argparse would only
    say "invalid choice")."""
    if not argv or argv[0].startswith("-") or argv[0] in get_plugins().registry("command"):
        return
    hint = install_hint("command", argv[0])
    if hint is not None:
        raise VisaError(hint)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
