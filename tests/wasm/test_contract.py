"""Every example handler in wasm_modules/ keeps the same contract, whatever its language and shape.

The cases (tests/wasm/contract_cases.json) say, per handler, what output an
input gives, or that it fails and whether permanently. Each module listed in
wasm_modules/handlers.json runs every case of its handler through the real
runtime (ottermq.wasm), once with a fresh instance per call and once with a
reused instance, so a guest allocator that leaks or corrupts state across calls
shows up too.

`python wasm_modules/build.py --check` sets OTTERMQ_WASM_REBUILT to a directory
of freshly rebuilt modules (and OTTERMQ_WASM_LANGUAGES to the languages it
rebuilt): those run the same cases, and must behave exactly like the committed
ones. Compiled modules are cached across runs (pytest's cache directory, or
OTTERMQ_WASM_TEST_CACHE): compiling the Python and JavaScript components takes
~20 s each the first time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ottermq.wasm import CallResult, FailureKind, LoadedHandler, SandboxSpec, WasmRuntime

REPO = Path(__file__).resolve().parents[2]
MODULES_DIR = REPO / "wasm_modules"
CASES_FILE = Path(__file__).with_name("contract_cases.json")
CASES: dict[str, list[dict[str, Any]]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))["handlers"]
MANIFEST: list[dict[str, str]] = json.loads((MODULES_DIR / "handlers.json").read_text(encoding="utf-8"))["modules"]
LANGUAGES = ("c", "zig", "rust", "assemblyscript", "go", "python", "javascript")
SHAPES = ("command", "core", "component")
# The handler's own failure, as opposed to a trap, a timeout or a bad output.
HANDLER_FAILURES = {"command": FailureKind.EXIT, "core": FailureKind.ERROR, "component": FailureKind.ERROR}

REBUILT_DIR = os.environ.get("OTTERMQ_WASM_REBUILT")
ONLY_LANGUAGES = {lang for lang in os.environ.get("OTTERMQ_WASM_LANGUAGES", "").split(",") if lang}


@dataclass(frozen=True, slots=True)
class Module:
    handler: str
    language: str
    shape: str
    path: Path
    label: str  # "c/validate_order.wasm", or "rebuilt:c/validate_order.wasm"


def _modules() -> list[Module]:
    found = []
    for entry in MANIFEST:
        if ONLY_LANGUAGES and entry["language"] not in ONLY_LANGUAGES:
            continue
        roots = [("", MODULES_DIR)] + ([("rebuilt:", Path(REBUILT_DIR))] if REBUILT_DIR else [])
        for prefix, root in roots:
            found.append(
                Module(entry["handler"], entry["language"], entry["shape"], root / entry["module"], prefix + entry["module"])
            )
    return found


MODULES = _modules()


def _case_params() -> Iterator[Any]:
    for module in MODULES:
        for case in CASES[module.handler]:
            yield pytest.param(module, case, id=f"{module.label}::{case['name']}")


def _input_text(case: dict[str, Any]) -> str:
    if "input_text" in case:
        return str(case["input_text"])
    return json.dumps(case["input"], ensure_ascii=False)


def _typed(value: Any) -> Any:
    """JSON with its number types kept: 4008 and 4008.0 compare different."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (type(value).__name__, value)
    return value


def _check(module: Module, case: dict[str, Any], result: CallResult) -> None:
    where = f"{module.label} on {case['name']!r}"
    if "output" in case:
        assert result.ok, f"{where}: expected output, got {result.kind}: {result.error}\nstderr: {result.stderr}"
        assert result.output is not None
        assert _typed(json.loads(result.output)) == _typed(case["output"]), f"{where}: wrong output {result.output}"
        return
    expected = case["error"]
    assert not result.ok, f"{where}: expected an error, got output {result.output}"
    assert result.kind is HANDLER_FAILURES[module.shape], f"{where}: not a handler failure: {result.kind}: {result.error}"
    assert result.permanent is expected["permanent"], f"{where}: permanent={result.permanent}: {result.error}"
    fragment = expected.get("message") or expected["contains"]
    assert fragment in (result.error or ""), f"{where}: error {result.error!r} lacks {fragment!r}"


@pytest.fixture(scope="session")
def runtime(request: pytest.FixtureRequest) -> Iterator[WasmRuntime]:
    configured = os.environ.get("OTTERMQ_WASM_TEST_CACHE")
    cache_dir = Path(configured) if configured else request.config.cache.mkdir("ottermq-wasm-modules")
    with WasmRuntime(cache_dir=cache_dir) as rt:
        yield rt


@pytest.fixture(scope="session")
def load(runtime: WasmRuntime) -> Callable[[Module, bool], LoadedHandler]:
    """Loads each (module, reuse) once per session: the runtime compiles a module once per content."""
    loaded: dict[tuple[Path, bool], LoadedHandler] = {}

    def get(module: Module, reuse: bool) -> LoadedHandler:
        key = (module.path, reuse)
        if key not in loaded:
            loaded[key] = runtime.load(module.path, SandboxSpec(timeout_ms=20_000, reuse_instance=reuse))
        return loaded[key]

    return get


@pytest.mark.parametrize(("module", "case"), list(_case_params()))
def test_case_with_a_fresh_instance(load: Callable[[Module, bool], LoadedHandler], module: Module, case: dict[str, Any]) -> None:
    _check(module, case, load(module, False).call(_input_text(case)))


@pytest.mark.parametrize("module", MODULES, ids=[m.label for m in MODULES])
def test_cases_with_a_reused_instance(load: Callable[[Module, bool], LoadedHandler], module: Module) -> None:
    handler = load(module, True)
    for _ in range(2):  # every case twice, interleaved, on the same instance where the shape allows one
        for case in CASES[module.handler]:
            _check(module, case, handler.call(_input_text(case)))


@pytest.mark.parametrize("module", MODULES, ids=[m.label for m in MODULES])
def test_shape_is_the_one_listed(load: Callable[[Module, bool], LoadedHandler], module: Module) -> None:
    assert load(module, False).shape == module.shape


@pytest.mark.skipif(not REBUILT_DIR, reason="only with build.py --check")
@pytest.mark.parametrize("module", [m for m in MODULES if m.label.startswith("rebuilt:")], ids=lambda m: m.label)
def test_rebuilt_module_behaves_like_the_committed_one(load: Callable[[Module, bool], LoadedHandler], module: Module) -> None:
    committed_path = MODULES_DIR / module.path.relative_to(Path(str(REBUILT_DIR)))
    committed = load(Module(module.handler, module.language, module.shape, committed_path, "committed"), False)
    rebuilt = load(module, False)
    for case in CASES[module.handler]:
        text = _input_text(case)
        old, new = committed.call(text), rebuilt.call(text)
        assert (new.ok, new.kind, new.permanent, new.error) == (old.ok, old.kind, old.permanent, old.error), case["name"]
        assert new.output is None or json.loads(new.output) == json.loads(old.output or "null"), case["name"]


def test_manifest_covers_every_module_and_source() -> None:
    listed = {MODULES_DIR / entry["module"] for entry in MANIFEST}
    on_disk = set(MODULES_DIR.glob("*/*.wasm"))
    assert on_disk == listed, f"not listed: {on_disk - listed}; missing: {listed - on_disk}"
    for entry in MANIFEST:
        assert (MODULES_DIR / entry["source"]).is_file(), entry["source"]
        assert entry["handler"] in CASES, entry["handler"]
        assert entry["language"] in LANGUAGES and entry["shape"] in SHAPES, entry


def test_every_handler_and_language_is_covered_enough() -> None:
    languages_of: dict[str, set[str]] = {}
    handlers_of: dict[str, set[str]] = {}
    languages_of_shape: dict[str, set[str]] = {}
    for entry in MANIFEST:
        languages_of.setdefault(entry["handler"], set()).add(entry["language"])
        handlers_of.setdefault(entry["language"], set()).add(entry["handler"])
        languages_of_shape.setdefault(entry["shape"], set()).add(entry["language"])
    assert set(languages_of) == set(CASES)
    assert all(len(langs) >= 2 for langs in languages_of.values()), languages_of
    assert set(handlers_of) == set(LANGUAGES)
    assert all(len(handlers) >= 2 for handlers in handlers_of.values()), handlers_of
    assert all(len(languages_of_shape[shape]) >= 3 for shape in SHAPES), languages_of_shape


def test_cases_cover_success_and_both_kinds_of_failure() -> None:
    for handler, cases in CASES.items():
        assert any("output" in case for case in cases), handler
        assert any(case.get("error", {}).get("permanent") for case in cases), handler
        names = [case["name"] for case in cases]
        assert len(names) == len(set(names)), f"{handler}: duplicate case names"
    retryable = [case for case in CASES["charge_payment"] if case.get("error", {}).get("permanent") is False]
    assert retryable, "charge_payment must show a retryable failure"
