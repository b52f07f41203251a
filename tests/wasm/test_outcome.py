"""The pure decisions: error payloads, permanence, output checks, exit codes, memory inference."""

from __future__ import annotations

import pytest

from ottermq.wasm.model import FailureKind
from ottermq.wasm.outcome import PERMANENT_EXIT_CODE, from_error_payload, from_exit, from_output, memory_near_limit
from ottermq.wasm.wasi import LogSink, OutputSink


@pytest.mark.parametrize(
    ("payload", "message", "permanent"),
    [
        ('{"message": "card declined", "permanent": true}', "card declined", True),
        ('  {"permanent": true, "message": "gone", "code": 7}  ', "gone", True),
        ('{"message": "try later", "permanent": false}', "try later", False),
        ('{"message": "try later"}', "try later", False),
        ('{"message": "truthy is not true", "permanent": "yes"}', "truthy is not true", False),
        ('{"message": "one is not true", "permanent": 1}', "one is not true", False),
        ('{"permanent": true}', '{"permanent": true}', True),
        ('["permanent", true]', '["permanent", true]', False),
        ("{broken json", "{broken json", False),
        ("plain words", "plain words", False),
        ("", "handler returned an empty error", False),
    ],
)
def test_error_payloads(payload: str, message: str, permanent: bool) -> None:
    outcome = from_error_payload(payload)
    assert (outcome.ok, outcome.kind, outcome.error, outcome.permanent) == (False, FailureKind.ERROR, message, permanent)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b'{"a": 1}', None),
        (b"[1, 2, 3]", None),
        (b'"a string is JSON"', None),
        (b"  42 ", None),
        (b"", FailureKind.INVALID_OUTPUT),
        (b"{'single': 'quotes'}", FailureKind.INVALID_OUTPUT),
        (b'{"a": 1} trailing', FailureKind.INVALID_OUTPUT),
        (b"\xc3\x28", FailureKind.INVALID_OUTPUT),
        (b'"' + b"x" * 100 + b'"', FailureKind.OUTPUT_TOO_LARGE),
    ],
)
def test_output_checks(data: bytes, kind: FailureKind | None) -> None:
    outcome = from_output(data, max_bytes=64)
    assert outcome.kind is kind
    assert outcome.ok is (kind is None)
    assert outcome.output == (data.decode() if kind is None else None)


def test_exit_codes() -> None:
    assert from_exit(PERMANENT_EXIT_CODE, "card declined\n").permanent
    retry = from_exit(2, "line one\n\nlast words\n\n")
    assert (retry.kind, retry.permanent, retry.error) == (FailureKind.EXIT, False, "last words")
    assert from_exit(1, "").error == "exited with code 1 (nothing on stderr)"
    assert from_exit(PERMANENT_EXIT_CODE, "card declined\n").error == "card declined"


def test_memory_inference() -> None:
    limit = 64 << 20
    assert not memory_near_limit(None, limit)
    assert not memory_near_limit(limit // 2, limit)
    assert memory_near_limit(limit // 2 + 65536, limit)
    near = from_exit(1, "boom\n", memory_size=60 << 20, memory_limit=limit)
    assert near.kind is FailureKind.OUT_OF_MEMORY
    assert (
        near.error == "out of memory: the call failed with its memory at 60.0 MiB of its 64.0 MiB limit; exited with code 1: boom"
    )


def test_log_sink_keeps_the_tail() -> None:
    sink = LogSink(10)
    for i in range(100):
        sink.write(f"{i:02d}\n".encode())
    assert sink.text() == "[... 290 earlier bytes of log output dropped ...]\n\n97\n98\n99\n"
    sink.reset()
    assert sink.text() == ""
    silent = LogSink(0)
    silent.write(b"anything")
    assert silent.text() == "[... 8 earlier bytes of log output dropped ...]\n"


def test_output_sink_refuses_writes_past_the_cap() -> None:
    sink = OutputSink(8)
    assert sink.write(b"12345") == 5
    assert sink.write(b"6789") < 0 and sink.overflowed
    assert sink.getvalue() == b"12345"
