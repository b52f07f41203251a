"""Checks of schedules: cron expressions, time zones, and the params a schedule gives its runs.

Cron expressions are standard five-field crontab (day of week 0-7, 0 and 7 are Sunday).
APScheduler numbers weekdays from Monday, so :func:`cron_trigger_fields` turns the
weekday field into names before anything reaches it.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from typing import Any

from ottermq.spec.diagnostics import Diagnostic
from ottermq.spec.loader import SourceDocument
from ottermq.spec.param_types import PARAM_TYPES, param_is_required, type_phrase, value_fits, value_phrase
from ottermq.suggest import closest, did_you_mean
from ottermq.templating import is_template

__all__ = ["schedule_checks", "cron_problem", "cron_trigger_fields"]

_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_FIELD_LABELS = {"minute": "minute", "hour": "hour", "day": "day of month", "month": "month"}
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_TOKEN = re.compile(r"^(?P<range>\*|(?P<a>[0-9a-z]+)(?:-(?P<b>[0-9a-z]+))?)(?:/(?P<step>[0-9]+))?$")
_ZONE_ABBREVIATIONS = {
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "CDT": "America/Chicago",
    "EDT": "America/New_York",
    "BST": "Europe/London",
    "CEST": "Europe/Berlin",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "AEST": "Australia/Sydney",
}
def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def schedule_checks(doc: SourceDocument, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    params = data.get("params")
    for name, schedule in _mapping(data.get("schedules")).items():
        if not isinstance(schedule, Mapping):
            continue
        tz = schedule.get("timezone", "UTC")
        tz_ok = True
        if isinstance(tz, str) and not _zone_exists(tz):
            tz_ok = False
            yield doc.diagnostic(("schedules", name, "timezone"), f"unknown time zone `{tz}`{_zone_hint(tz)}")
        cron = schedule.get("cron")
        if isinstance(cron, str):
            problem = cron_problem(cron, tz if tz_ok and isinstance(tz, str) else "UTC")
            if problem:
                yield doc.diagnostic(("schedules", name, "cron"), problem)
        if "timezone" in schedule and "interval" in schedule:
            yield doc.diagnostic(("schedules", name, "timezone"), "`timezone` applies to cron schedules only", key=True)
        if schedule.get("max_catch_up") is not None and schedule.get("catch_up") != "all":
            message = "`max_catch_up` applies only with `catch_up: all`"
            yield doc.diagnostic(("schedules", name, "max_catch_up"), message, key=True)
        if isinstance(params, Mapping) or params is None:
            yield from _schedule_params(doc, name, schedule, _mapping(params))


def _schedule_params(
    doc: SourceDocument, name: str, schedule: Mapping[str, Any], declared: Mapping[str, Any]
) -> Iterator[Diagnostic]:
    given = schedule.get("params", {})
    if not isinstance(given, Mapping):
        return
    meant: set[str] = set()
    unknown = [key for key in given if key not in declared]
    missing = [p for p, spec in declared.items() if isinstance(spec, Mapping) and param_is_required(spec) and p not in given]
    for key, value in given.items():
        path = ("schedules", name, "params", key)
        spec = declared.get(key)
        if key not in declared:
            # One unknown param where one required param is missing: surely that one, whatever the spelling.
            suggestion = closest(key, declared) or (missing[0] if len(unknown) == 1 and len(missing) == 1 else None)
            if suggestion:
                meant.add(suggestion)
            hint = f", did you mean `{suggestion}`?" if suggestion else _declared_list(declared)
            yield doc.diagnostic(path, f"unknown param `{key}`{hint}", key=True)
        elif isinstance(spec, Mapping) and not (isinstance(value, str) and is_template(value)):
            kind = spec.get("type", "string")
            if isinstance(kind, str) and kind in PARAM_TYPES and not value_fits(kind, value):
                yield doc.diagnostic(path, f"`{value}` is {value_phrase(value)}, but param `{key}` is {type_phrase(kind)}")
    for param in missing:
        if param not in meant:
            yield doc.diagnostic(
                ("schedules", name),
                f"schedule `{name}` does not give the required param `{param}` (add it under `params`)",
                key=True,
            )


def _declared_list(declared: Mapping[str, Any]) -> str:
    if not declared:
        return " (this pipeline declares no params)"
    return f" (the params are {', '.join(f'`{p}`' for p in sorted(declared))})"


def _zone_exists(tz: str) -> bool:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _zone_hint(tz: str) -> str:
    if tz.upper() in _ZONE_ABBREVIATIONS:
        return f" (abbreviations are not time zones: use an IANA name such as {_ZONE_ABBREVIATIONS[tz.upper()]})"
    if "/" not in tz and tz.isupper():
        return " (abbreviations are not time zones: use an IANA name such as UTC or Europe/Berlin)"
    return did_you_mean(tz, _zone_names()) or " (use an IANA name such as UTC or Europe/Berlin)"


def cron_trigger_fields(expression: str) -> dict[str, str]:
    """A five-field crontab as APScheduler CronTrigger arguments (weekdays as names). Raises ValueError."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields, got {len(fields)}")
    out = dict(zip(_FIELDS, fields, strict=True))
    out["day_of_week"] = _weekday_names(fields[4])
    return out


def _weekday_names(field: str) -> str:
    """Crontab weekdays (0-7 or sun-sat, with ranges, lists and steps) as a list of names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for token in field.lower().split(","):
        match = _WEEKDAY_TOKEN.match(token)
        if not match:
            raise ValueError(f"day of week `{token}` is not a day (0-7 or sun-sat, with `-`, `,` and `/`)")
        step = int(match.group("step") or 1)
        if step == 0:
            raise ValueError(f"day of week `{token}`: the step must be at least 1")
        if match.group("range") == "*":
            first, last = 0, 6
        else:
            first = _weekday(match.group("a"))
            last = _weekday(match.group("b")) if match.group("b") else (6 if match.group("step") else first)
            if match.group("b") and match.group("b") in ("7", "sun") and first > 0:
                last = 7
            if last < first:
                raise ValueError(f"day of week `{token}`: the range runs backwards")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def _weekday(token: str) -> int:
    if token.isdigit():
        number = int(token)
        if number > 7:
            raise ValueError(f"day of week `{token}` is out of range (0-7, where 0 and 7 are Sunday)")
        return number
    if token[:3] in _WEEKDAYS and len(token) == 3:
        return _WEEKDAYS.index(token)
    raise ValueError(f"day of week `{token}` is not a day (0-7 or sun-sat)")


def cron_problem(expression: str, timezone: str) -> str | None:
    """Why a five-field cron expression does not parse, or None."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        seconds = "; a leading seconds field is not supported" if len(fields) == 6 else ""
        count = f"{len(fields)} field{'s' if len(fields) != 1 else ''}"
        return f"cron expression `{expression}` has {count}; expected 5 (minute hour day month weekday){seconds}"
    try:
        arguments = cron_trigger_fields(expression)
    except ValueError as exc:
        return f"invalid cron expression `{expression}`: {exc}"
    for field in _FIELDS[:4]:
        try:
            CronTrigger(**{field: arguments[field]}, timezone=timezone)
        except ValueError as exc:
            detail = re.sub(r"^Error validating expression '[^']*': ", "", str(exc))
            return f"invalid cron expression `{expression}`: {_FIELD_LABELS[field]} `{arguments[field]}`: {detail}"
    try:
        CronTrigger(**arguments, timezone=timezone)
    except ValueError as exc:
        return f"invalid cron expression `{expression}`: {exc}"
    return None
