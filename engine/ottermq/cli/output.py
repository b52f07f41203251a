"""Shared output options for subcommands."""

from __future__ import annotations

import argparse


def add_output_flag(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    """``nested``: for a sub-subcommand, so `ottermq runs -o json show ID` keeps the parent's choice."""
    parser.add_argument("--output", "-o", choices=("text", "json"), default=argparse.SUPPRESS if nested else "text",
                        help="output format (default text)")
