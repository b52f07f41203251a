"""Read simple expression-only templates without Jinja's parser, to list what they refer to.

Validation analyses every template of a repository; most are paths, literals,
operators and filters (`{{ tasks.a.output.total * 2 }}`), which a small tokenizer
reads far faster than Jinja can parse them. Anything it is not sure about raises
`_Unsure`, and the caller falls back to Jinja's own parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ottermq.errors import InternalError

__all__ = ["Reference", "TemplateInfo", "quick_info"]


@dataclass(frozen=True, slots=True)
class Reference:
    """A statically visible use of `params.NAME`, `tasks.NAME`, or another root variable."""

    root: str
    name: str | None


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    free_names: frozenset[str]
    references: frozenset[Reference]
    private_attributes: tuple[str, ...]
    # Static three-part lookups `root.name.field` (`tasks.price.output`), for checking the field.
    fields: frozenset[tuple[str, str, str]] = frozenset()


_TOKEN = re.compile(
    r"\s*(?:([A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?(?![0-9A-Za-z_.])|'[^'\\\n]*'|\"[^\"\\\n]*\""
    r"|\}\}|==|!=|<=|>=|//|\*\*|[~+\-*/%<>|.,()\[\]=]))"
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "if", "else"})
_CONSTANTS = frozenset({"true", "false", "none", "True", "False", "None"})
# Binary operators between operands of one comparison: arithmetic, `~`, comparisons (`not in` apart).
_OPERATORS = frozenset({"+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">", "<=", ">=", "in"})


class _Unsure(InternalError):  # noqa: N818 - a signal caught in _quick_info: leave the template to Jinja
    pass


class _QuickAnalysis:
    """Expression-only templates (paths, literals, operators, filters, `x if y else z`) read without Jinja.

    Jinja's parser costs a fifth of a millisecond per template, most of validating a large
    repository. This reads a subset of its grammar in which every template is valid Jinja
    and finds the same names, references and filters; anything else (statements, calls,
    slices, tests, lists, escapes) raises _Unsure and goes to Jinja. Precedence does not
    change what a template names, so operators are read flat: Jinja's `or`/`and`/`not`
    levels over comparisons of unary operands.
    """

    def __init__(self, source: str) -> None:
        self.tokens: list[str] = []
        self.names: set[str] = set()
        self.refs: set[Reference] = set()
        self.fields: set[tuple[str, str, str]] = set()
        self.private: list[str] = []
        self.filters: list[str] = []
        self.pos = 0
        self._split(source)

    def info(self) -> TemplateInfo:
        if len(self.tokens) > 200:
            raise _Unsure  # Jinja's compiler recurses once per operator: a long chain is its call
        self.tokens.append("")  # the end, so that a lookahead never runs off the list
        while self.tokens[self.pos]:
            self._expression()
            if self._next() != "}}":
                raise _Unsure
        refs = self.refs | {Reference(name, None) for name in self.names}
        return TemplateInfo(frozenset(self.names), frozenset(refs), tuple(dict.fromkeys(self.private)), frozenset(self.fields))

    def _split(self, source: str) -> None:
        """Tokens of every `{{ ... }}`; the text between them must hold no other Jinja syntax."""
        at, tokens, match_token = 0, self.tokens, _TOKEN.match
        while True:
            start = source.find("{{", at)
            text = source[at:] if start < 0 else source[at:start]
            if "{%" in text or "{#" in text:
                raise _Unsure
            if start < 0:
                return
            at = start + 2
            if source[at : at + 1] in ("-", "+"):
                raise _Unsure  # whitespace control
            while True:
                match = match_token(source, at)
                if match is None or match.group(1) is None:
                    raise _Unsure
                at = match.end()
                token = match.group(1)
                if token == "}}":
                    if tokens and tokens[-1] in ("-", "+", "}}"):
                        raise _Unsure  # whitespace control, or an empty `{{ }}`
                    tokens.append(token)
                    break
                tokens.append(token)

    def _next(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _expression(self) -> None:
        self._or_level()
        while self.tokens[self.pos] == "if":
            self.pos += 1
            self._or_level()
            if self.tokens[self.pos] == "else":
                self.pos += 1
                self._expression()

    def _or_level(self) -> None:
        tokens = self.tokens
        while True:
            while tokens[self.pos] == "not":
                self.pos += 1
            self._unary()
            while True:
                token = tokens[self.pos]
                if token in _OPERATORS:
                    self.pos += 1
                elif token == "not" and tokens[self.pos + 1] == "in":
                    self.pos += 2
                else:
                    break
                self._unary()
            if tokens[self.pos] not in ("and", "or"):
                return
            self.pos += 1

    def _unary(self) -> None:
        while self.tokens[self.pos] in ("-", "+"):
            self.pos += 1
        self._primary()
        while self.tokens[self.pos] == "|":
            self.pos += 1
            name = self._next()
            if not _is_name(name):
                raise _Unsure
            self.filters.append(name)
            if self.tokens[self.pos] == "(":
                self.pos += 1
                self._arguments()

    def _primary(self) -> None:
        token = self._next()
        first = token[:1]
        if _is_name(token) and token not in _CONSTANTS:
            self.names.add(token)
            self._postfix(token)
        elif first in ("'", '"') or first.isdigit() or token in _CONSTANTS:
            if self.tokens[self.pos] in (".", "[", "("):
                raise _Unsure
        elif token == "(":
            self._expression()
            if self._next() != ")" or self.tokens[self.pos] in (".", "[", "("):
                raise _Unsure
        else:
            raise _Unsure

    def _postfix(self, root: str) -> None:
        attrs: list[str | None] = []
        tokens = self.tokens
        while tokens[self.pos] in (".", "["):
            if self._next() == ".":
                attr: str | None = self._next()
                if not _is_name(attr or ""):
                    raise _Unsure
            else:
                index = self._next()
                if index[:1] not in ("'", '"') and not index[:1].isdigit() or self._next() != "]":
                    raise _Unsure
                attr = index[1:-1] if index[:1] in ("'", '"') else None
            if attr is not None and attr.startswith("_"):
                self.private.append(attr)
            attrs.append(attr)
        if tokens[self.pos] == "(":
            raise _Unsure  # a call
        if attrs and attrs[0] is not None:
            self.refs.add(Reference(root, attrs[0]))
            if len(attrs) > 1 and attrs[1] is not None:
                self.fields.add((root, attrs[0], attrs[1]))

    def _arguments(self) -> None:
        keyword = False
        tokens = self.tokens
        while True:
            if _is_name(tokens[self.pos]) and tokens[self.pos + 1] == "=":
                self.pos += 2
                keyword = True
            elif keyword:
                raise _Unsure  # a positional argument after a keyword one
            self._expression()
            token = self._next()
            if token == ")":
                return
            if token != "," or tokens[self.pos] == ")":
                raise _Unsure  # not a comma, or a trailing one


def _is_name(token: str) -> bool:
    first = token[:1]
    return (first.isalpha() or first == "_") and first.isascii() and token not in _KEYWORDS


def quick_info(source: str) -> TemplateInfo | None:
    if len(source) > 2000:
        return None  # long templates may nest or chain beyond what Jinja compiles: let it judge
    try:
        quick = _QuickAnalysis(source)
        return quick.info(), quick.filters  # type: ignore[return-value]
    except (_Unsure, IndexError, RecursionError):
        return None
