"""YAML syntax errors, told in terms of what the user wrote.

The YAML parser reports where it gave up and what token it expected ("did not find
expected key"). The usual causes in pipeline files are few: a tab, an unclosed quote
or bracket, a line indented to match no key, an unquoted template, a `: ` inside a
plain value. This module recognises them from the parser's marks and the text, and
points at the place to fix; anything else keeps the parser's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ruamel.yaml.error import MarkedYAMLError

from ottermq.spec.diagnostics import Diagnostic

__all__ = ["syntax_diagnostic"]

_UNQUOTED_TEMPLATE = re.compile(r"(?:^|[:\[,]|(?:^|\s)-)\s*\{[{%]")
_QUOTE_TEMPLATE_HINT = "a template that starts a value must be quoted: YAML reads `{` as the start of a mapping"


@dataclass(frozen=True, slots=True)
class _Mark:
    line: int  # 0-based, as the parser counts
    column: int


def _mark(raw: object) -> _Mark | None:
    if raw is None:
        return None
    return _Mark(int(getattr(raw, "line", 0)), int(getattr(raw, "column", 0)))


def _clean(problem: str) -> str:
    return " ".join(problem.split())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def syntax_diagnostic(exc: MarkedYAMLError, text: str, file: str) -> Diagnostic:
    problem_mark, context_mark = _mark(exc.problem_mark), _mark(exc.context_mark)
    at = problem_mark or context_mark or _Mark(0, 0)
    lines = text.splitlines()
    problem = _clean(exc.problem or exc.context or "invalid YAML")
    context = _clean(exc.context or "")
    explained = _explain(problem, context, problem_mark, context_mark, lines)
    if explained is not None:
        at, message = explained
    else:
        message = problem
        if context and context_mark and problem_mark and context_mark.line != problem_mark.line:
            message += f" ({context} on line {context_mark.line + 1})"
    return Diagnostic(file, at.line + 1, at.column + 1, "$", f"YAML syntax error: {message}")


def _explain(
    problem: str, context: str, pm: _Mark | None, cm: _Mark | None, lines: list[str]
) -> tuple[_Mark, str] | None:
    at = pm or cm
    if at is None:
        return None
    line = lines[at.line] if at.line < len(lines) else ""
    leading = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" in leading and at.column <= len(leading):
        return at, "a tab character indents this line; YAML indents with spaces only"
    if context.startswith("while scanning a quoted scalar") and cm is not None and "end of stream" in problem:
        quote = _char(lines, cm)
        return cm, f"the string opened with {quote} here is never closed"
    if problem == "found unknown escape character" and pm is not None:
        return pm, (
            f"`\\{_char(lines, _Mark(pm.line, pm.column + 1)).strip('`')}` is not an escape YAML knows; in double quotes "
            "a backslash starts an escape: write `\\\\` for a backslash, or use single quotes"
        )
    template = _unquoted_template(line, at.column)
    if template is not None:
        return _Mark(at.line, template), _QUOTE_TEMPLATE_HINT
    if context == "while parsing a flow node" and pm is not None and pm.line >= len(lines):
        opener = _unclosed_bracket(lines)
        if opener is not None:
            closer = "]" if opener[2] == "[" else "}"
            message = f"this `{opener[2]}` is never closed: expected `{closer}` before the end of the file"
            return _Mark(opener[0], opener[1]), message
    flow = context.startswith(("while parsing a flow sequence", "while parsing a flow mapping"))
    if flow and cm is not None and pm is not None:
        opener = "[" if "sequence" in context else "{"
        closer = "]" if opener == "[" else "}"
        if pm.line >= len(lines):
            return cm, f"this `{opener}` is never closed: expected `,` or `{closer}` before the end of the file"
        if pm.line > cm.line:
            where = f"line {pm.line + 1}, column {pm.column + 1}"
            return cm, f"this `{opener}` is not closed: expected `,` or `{closer}` before {where}"
        return pm, f"expected `,` or `{closer}` here, inside the `{opener}` opened at column {cm.column + 1}"
    if problem == "found character that cannot start any token" and pm is not None:
        char = line[pm.column : pm.column + 1]
        names = {"@": "`@`", "`": "a backtick", "%": "`%`"}
        if char in names:
            return pm, f"a plain value cannot start with {names[char]}: put the value in quotes"
    if context == "while parsing a block collection" and pm is not None and cm is not None:
        return pm, f"a `key: value` line where the list that starts on line {cm.line + 1} expects a `- ` item"
    if problem == "could not find expected ':'" and context == "while scanning a simple key" and cm is not None:
        key = _line(lines, cm.line)[cm.column :].strip()
        shown = key if len(key) <= 40 else key[:37] + "..."
        words = key.split(None, 1)
        if len(words) == 2 and len(key) <= 40:
            return cm, f"`{shown}` has no `:` after its key: write `{words[0]}: {words[1]}`"
        return cm, f"`{shown}` is not followed by `:`: write `{shown}: VALUE` (or `- {shown}` for a list item)"
    if problem.startswith("mapping values are not allowed") and pm is not None:
        message = _colon_message(lines, pm)
        if message.startswith("this line"):
            return _Mark(pm.line, _indent(line)), message
        return pm, message
    if problem == "did not find expected key" and pm is not None and _indent(line) == pm.column and line.strip():
        message = _indentation_message(lines, pm, cm)
        if message is not None:
            return pm, message
    return None


def _unquoted_template(line: str, column: int) -> int | None:
    """Column of an unquoted `{{`/`{%` that starts a value, at or before ``column``."""
    found = None
    for match in _UNQUOTED_TEMPLATE.finditer(line):
        if match.end() - 2 <= column + 1:
            found = match.end() - 2
    return found


def _line(lines: list[str], index: int) -> str:
    return lines[index] if 0 <= index < len(lines) else ""


def _unclosed_bracket(lines: list[str]) -> tuple[int, int, str] | None:
    """The innermost `[` or `{` still open at the end of the text (quotes and comments skipped, roughly)."""
    stack: list[tuple[int, int, str]] = []
    for number, line in enumerate(lines):
        quote = ""
        for column, char in enumerate(line):
            if quote:
                if char == quote:
                    quote = ""
            elif char in "\"'" and (column == 0 or line[column - 1] in " \t[{,:"):
                quote = char
            elif char == "#" and (column == 0 or line[column - 1] in " \t"):
                break
            elif char in "[{":
                stack.append((number, column, char))
            elif char in "]}" and stack:
                stack.pop()
    return stack[-1] if stack else None


def _char(lines: list[str], mark: _Mark) -> str:
    line = lines[mark.line] if mark.line < len(lines) else ""
    return f"`{line[mark.column : mark.column + 1]}`" if mark.column < len(line) else "a quote"


def _colon_message(lines: list[str], pm: _Mark) -> str:
    line = lines[pm.line]
    before = line[: pm.column]
    if ": " in before or before.rstrip().endswith(":"):
        return "a second `: ` on this line: a value that contains `: ` must be quoted"
    above = _previous_content_line(lines, pm.line)
    if above is not None and _indent(line) > _indent(lines[above]):
        return (
            f"this line is indented more than line {above + 1}, whose key already has a value; "
            "indent keys of one mapping equally"
        )
    return "a `key: value` where YAML expected a plain value"


def _previous_content_line(lines: list[str], index: int) -> int | None:
    for i in range(index - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            return i
    return None


def _indentation_message(lines: list[str], pm: _Mark, cm: _Mark | None) -> str | None:
    line = lines[pm.line]
    if line.lstrip().startswith("- ") or line.strip() == "-":
        above = _previous_content_line(lines, pm.line)
        if above is not None and lines[above].lstrip().startswith("- ") and _indent(lines[above]) != pm.column:
            return (
                f"this list item is indented by {pm.column}, but the item on line {above + 1} by {_indent(lines[above])}: "
                "items of one list line up"
            )
        where = f" that starts on line {cm.line + 1}" if cm else ""
        return f"a list item where the mapping{where} expects a `key: value` line; indent the items under their key"
    levels: list[int] = []
    i: int | None = pm.line
    while True:
        i = _previous_content_line(lines, i) if i is not None else None
        if i is None:
            break
        level = _indent(lines[i])
        if not levels or level < levels[-1]:
            levels.append(level)
        if level == 0:
            break
    width = pm.column
    if width in levels:
        return None
    spaces = f"{width} space{'s' if width != 1 else ''}"
    if not levels:
        return f"this line is indented by {spaces}, but nothing above it is"
    shown = ", ".join(str(n) for n in levels[:-1]) + (" or " if len(levels) > 1 else "") + str(levels[-1])
    return f"this line is indented by {spaces}, which lines up with none of the lines above it (indented by {shown})"
