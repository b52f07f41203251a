"""The YAML parser, and the conversion of YAML 1.2 numbers to Python values."""

from __future__ import annotations

import io

from ruamel.yaml.resolver import Resolver

__all__ = ["PARSER", "parse_int", "parse_float"]


def _parser_class() -> type:
    """ruamel's C parser if its extension is installed, else the pure-Python one; both resolve YAML 1.2 tags."""
    try:
        from ruamel.yaml.cyaml import CParser
    except ImportError:
        CParser = None  # noqa: N806
    if CParser is not None:

        class CEventParser(CParser, Resolver):  # type: ignore[misc, valid-type]
            def __init__(self, stream: io.StringIO) -> None:
                CParser.__init__(self, stream)
                Resolver.__init__(self, loadumper=self)

        return CEventParser

    from ruamel.yaml.parser import Parser
    from ruamel.yaml.reader import Reader
    from ruamel.yaml.scanner import Scanner

    class PyEventParser(Reader, Scanner, Parser, Resolver):  # type: ignore[misc]
        def __init__(self, stream: io.StringIO) -> None:
            Reader.__init__(self, stream, loader=self)
            Scanner.__init__(self, loader=self)
            Parser.__init__(self, loader=self)
            Resolver.__init__(self, loadumper=self)

    return PyEventParser


PARSER = _parser_class()


def parse_int(text: str) -> int:
    t = text.replace("_", "")
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    if t.startswith(("0x", "0X")):
        return sign * int(t[2:], 16)
    if t.startswith(("0o", "0O")):
        return sign * int(t[2:], 8)
    if t.startswith(("0b", "0B")):
        return sign * int(t[2:], 2)
    return sign * int(t, 10)


def parse_float(text: str) -> float | str:
    t = text.replace("_", "").lower()
    if t in (".inf", "+.inf"):
        return float("inf")
    if t == "-.inf":
        return float("-inf")
    if t == ".nan":
        return float("nan")
    try:
        return float(t)
    except ValueError:
        return text
