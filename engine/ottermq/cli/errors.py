"""Map exceptions to exit codes: user errors 1, usage 2, bugs 3 (traceback to a log file), Ctrl-C 130."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ottermq.errors import OtterError, SpecError, UsageError

INTERNAL_LOG = "crash.log"


@dataclass(slots=True)
class Outcome:
    exit_code: int = 0
    log_dir: Path = Path(".ottermq") / "logs"


@contextlib.contextmanager
def handle_errors() -> Iterator[Outcome]:
    outcome = Outcome()
    try:
        yield outcome
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        outcome.exit_code = 130
    except SpecError as exc:
        # The diagnostics were printed by the command; only the summary is left.
        outcome.exit_code = exc.exit_code
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("run `ottermq --help` for usage", file=sys.stderr)
        outcome.exit_code = exc.exit_code
    except OtterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        outcome.exit_code = exc.exit_code
    except BrokenPipeError:
        outcome.exit_code = 0
    except Exception:
        outcome.exit_code = 3
        path = _write_crash_log(outcome.log_dir)
        print(f"internal error: this is a bug in OtterMQ; the traceback is in {path}", file=sys.stderr)
        print(f"  {traceback.format_exc().strip().splitlines()[-1]}", file=sys.stderr)


def _write_crash_log(log_dir: Path) -> Path:
    text = f"--- {dt.datetime.now(dt.UTC).isoformat()} {' '.join(sys.argv)}\n{traceback.format_exc()}\n"
    for directory in (log_dir, Path.home() / ".cache" / "ottermq"):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / INTERNAL_LOG
            with path.open("a", encoding="utf-8") as fh:
                fh.write(text)
            return path
        except OSError:
            continue
    return Path("<stderr>")
