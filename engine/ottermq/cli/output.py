"""Shared output options for subcommands."""

from __future__ import annotations

import argparse


def add_output_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text", help="output format (default text)")
