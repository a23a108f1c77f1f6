"""Argument types and flags shared by the sub-commands: counts checked by argparse (a named usage
error before anything loads) and the ``--overwrite`` flag of the output policy."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """An ``int`` >= 1 (argparse ``type``)."""
    return _bounded_int(text, 1)


def non_negative_int(text: str) -> int:
    """An ``int`` >= 0 (argparse ``type``)."""
    return _bounded_int(text, 0)


def _bounded_int(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def add_overwrite_flag(parser: argparse.ArgumentParser, what: str = "the output folder") -> None:
    """``--overwrite``: empty ``what`` first when it holds files (see docs/outputs.md)."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=f"delete the contents of {what} first when it is not empty (otherwise a non-empty folder "
        "is refused unless it holds a resumable run of the same settings)",
    )
