"""Check the documents of a large repository in several processes, with the result of one.

After loading, most of the time of validating a repository goes to the checks of each
document (schema, semantics, templates), and each document is checked by itself. With
PARALLEL_MIN_DOCUMENTS documents or more, the list is cut into contiguous shares;
forked processes check all shares but the first, which this process checks meanwhile
(as many processes as there are cores that look idle, at most MAX_PROCESSES).
A forked process starts with the documents already in its memory, so nothing is sent
to it; it sends back its diagnostics as JSON text. Forking is only done on Linux, in a
process with a single thread (where it is safe and cheap); otherwise, and if a process
fails, the documents are checked here.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from ottermq.spec.diagnostics import Diagnostic
from ottermq.spec.loader import SourceDocument
from ottermq.templating import TemplateEngine

__all__ = ["check_documents", "process_count", "PARALLEL_MIN_DOCUMENTS", "MAX_PROCESSES"]

PARALLEL_MIN_DOCUMENTS = 64
MAX_PROCESSES = 4

Check = Callable[[SourceDocument, TemplateEngine], list[Diagnostic]]


def process_count(documents: int) -> int:
    """How many processes to check ``documents`` documents with (1: this one only)."""
    if documents < PARALLEL_MIN_DOCUMENTS or sys.platform != "linux" or threading.active_count() > 1:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    # On a busy machine a second process waits for a core and only adds its start-up: use the
    # cores that look idle. The load average (over a minute) may already count this process.
    idle = int(cpus + 1.5 - os.getloadavg()[0])
    return max(1, min(cpus, idle, MAX_PROCESSES, documents // (PARALLEL_MIN_DOCUMENTS // 2)))


def check_documents(
    documents: Sequence[SourceDocument], check: Check, engine: TemplateEngine, *, processes: int | None = None
) -> list[Diagnostic]:
    """Every diagnostic ``check`` finds in ``documents``; ``processes`` forces the number of processes."""
    count = process_count(len(documents)) if processes is None else max(1, min(processes, len(documents)))
    if count < 2 or "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return [d for doc in documents for d in check(doc, engine)]
    bounds = [len(documents) * i // count for i in range(count + 1)]
    context = multiprocessing.get_context("fork")
    children: list[tuple[int, int, Any, Connection]] = []
    for start, end in zip(bounds[1:-1], bounds[2:], strict=True):
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_check_share, args=(documents[start:end], check, sender), daemon=True)
        try:
            process.start()
        except OSError:
            receiver.close()
            sender.close()
            continue  # checked here below
        sender.close()
        children.append((start, end, process, receiver))
    out = [d for doc in documents[: bounds[1]] for d in check(doc, engine)]
    done = set(range(bounds[1]))
    for start, end, process, receiver in children:
        received = _receive(receiver)
        process.join()
        if received is not None and process.exitcode == 0:
            out.extend(received)
            done.update(range(start, end))
    # Shares whose process could not start or failed.
    out.extend(d for i, doc in enumerate(documents) if i not in done for d in check(doc, engine))
    return out


def _check_share(documents: Sequence[SourceDocument], check: Check, sender: Connection) -> None:
    """In a forked process: check one share and send the diagnostics."""
    engine = TemplateEngine()
    found = [[d.file, d.line, d.column, d.path, d.message] for doc in documents for d in check(doc, engine)]
    sender.send_bytes(json.dumps(found, ensure_ascii=False).encode("utf-8"))
    sender.close()


def _receive(receiver: Connection) -> list[Diagnostic] | None:
    try:
        rows = json.loads(receiver.recv_bytes().decode("utf-8"))
    except (EOFError, OSError, ValueError):
        return None
    finally:
        receiver.close()
    return [Diagnostic(*row) for row in rows]
