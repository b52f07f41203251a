"""The one error hierarchy of OtterMQ.

Every error the engine raises on purpose derives from :class:`OtterError` and
carries the process exit code the CLI maps it to::

    OtterError                      exit 3 unless a subclass says otherwise
    ├── UserError                   exit 1: the user can fix it
    │   ├── ConfigError             bad ottermq.yaml / flag / environment value
    │   ├── SpecError               invalid pipeline files (carries diagnostics)
    │   ├── ParamsError             run parameters that do not fit the params schema
    │   ├── TemplateError           a template that fails to parse or render
    │   │   └── SandboxViolation    a template that tried to escape the sandbox
    │   ├── NotFound                a run, pipeline, version or DLQ entry that does not exist
    │   ├── QueueFull               a queue at max size whose overflow policy is `reject`
    │   ├── HandlerModuleError      a WASM module that cannot be used (missing, bad shape)
    │   ├── BlueprintError          a run blueprint the store cannot execute (lists every problem)
    │   └── StoreUnavailable        Redis cannot be reached or answered with an error
    ├── UsageError                  exit 2: the command line itself is wrong
    ├── StoreError                  a store operation refused (typed, carries the operation)
    │   └── LeaseLost               ack/extend/fail with a token that no longer owns the task
    │       └── RunCancelled        the leased task's run was cancelled; nothing was written
    ├── EmbeddedServerError         the embedded Redis server could not be started
    └── InternalError               exit 3: a bug; the CLI logs the traceback

`Interrupted` (exit 130) is raised on Ctrl-C by the CLI boundary only.
"""

from __future__ import annotations

__all__ = [
    "BlueprintError",
    "ConfigError",
    "EmbeddedServerError",
    "HandlerModuleError",
    "InternalError",
    "Interrupted",
    "LeaseLost",
    "NotFound",
    "OtterError",
    "ParamsError",
    "QueueFull",
    "RunCancelled",
    "SandboxViolation",
    "SpecError",
    "StoreError",
    "StoreUnavailable",
    "TemplateError",
    "UsageError",
    "UserError",
]

from typing import Any


class OtterError(Exception):
    """Base of every error OtterMQ raises on purpose."""

    exit_code: int = 3


class UserError(OtterError):
    """Something the user can fix: a file, a parameter, a name."""

    exit_code = 1


class UsageError(OtterError):
    """The command line is wrong (unknown flag, missing argument)."""

    exit_code = 2


class InternalError(OtterError):
    """A bug in OtterMQ."""

    exit_code = 3


class Interrupted(OtterError):
    """The user pressed Ctrl-C."""

    exit_code = 130


class ConfigError(UserError):
    """A configuration file, flag or environment variable is invalid.

    ``location`` is ``file:line:col`` when the mistake is in a file.
    """

    def __init__(self, message: str, location: str | None = None) -> None:
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class SpecError(UserError):
    """Pipeline files failed validation; ``diagnostics`` holds every mistake."""

    def __init__(self, diagnostics: Any) -> None:
        self.diagnostics = tuple(diagnostics)
        count = len(self.diagnostics)
        super().__init__(f"{count} error{'s' if count != 1 else ''} in pipeline files")


class ParamsError(UserError):
    """Run parameters do not fit the pipeline's params schema."""


class TemplateError(UserError):
    """A template failed to parse or render."""


class SandboxViolation(TemplateError):
    """A template tried to reach something the sandbox forbids."""


class NotFound(UserError):
    """A named thing (run, pipeline, version, DLQ entry) does not exist."""


class QueueFull(UserError):
    """A queue reached its max size and its overflow policy is `reject`."""


class HandlerModuleError(UserError):
    """A WASM handler module is missing, does not compile or has no known shape."""


class BlueprintError(UserError):
    """A run blueprint the store cannot execute; ``problems`` lists every reason."""

    def __init__(self, problems: Any) -> None:
        self.problems = tuple(str(p) for p in problems)
        super().__init__("invalid run blueprint: " + "; ".join(self.problems))


class StoreUnavailable(UserError):
    """Redis cannot be reached, or refused a command."""

    def __init__(self, message: str, operation: str | None = None) -> None:
        self.operation = operation
        super().__init__(f"{operation}: {message}" if operation else message)


class StoreError(OtterError):
    """A store operation was refused; ``operation`` names it."""

    def __init__(self, message: str, operation: str | None = None) -> None:
        self.operation = operation
        super().__init__(f"{operation}: {message}" if operation else message)


class LeaseLost(StoreError):
    """The lease token does not own the task any more; nothing was written."""


class RunCancelled(LeaseLost):
    """The run of a leased task was cancelled: stop the handler; its result is discarded."""


class EmbeddedServerError(OtterError):
    """The embedded Redis server could not be found, started or stopped."""

    exit_code = 1
