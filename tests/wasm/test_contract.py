"""Every example handler in wasm_modules/ keeps the same contract, whatever its language and shape.

The cases (tests/wasm/contract_cases.json) say, per handler, what output an
input gives, or that it fails and whether permanently. Each module listed in
wasm_modules/handlers.json runs every case of its handler through the real
runtime (ottermq.wasm), once with a fresh instance per call and once with a
reused instance, so a guest allocator that leaks or corrupts state across calls
shows up too.

A case may set up the worker's host for its call (`host`: environment variables
and directories with files, made fresh for every call), say what the handler's
spec grants of it (`grants`), and which files must hold what afterwards
(`files_after`). Without `grants` a handler gets nothing: the runtimes here see
only the environment a case gives them, never the test process's own.

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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ottermq.wasm import CallResult, DirGrant, FailureKind, LoadedHandler, SandboxSpec, WasmRuntime

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


Case = dict[str, Any]
Runtimes = Callable[[Mapping[str, str]], WasmRuntime]
Loader = Callable[[Module, bool], LoadedHandler]
CASE_KEYS = {"name", "input", "input_text", "output", "error", "host", "grants", "files_after"}
TIMEOUT_MS = 20_000


def _sandboxed(case: Case) -> bool:
    return any(key in case for key in ("host", "grants", "files_after"))


def _make_tree(root: Path, entries: Mapping[str, Any]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in entries.items():
        if isinstance(content, str):
            (root / name).write_text(content, encoding="utf-8")
        else:
            _make_tree(root / name, content)


def _make_host_dirs(case: Case, workdir: Path) -> dict[str, Path]:
    dirs: dict[str, Path] = {}
    for label, entries in case.get("host", {}).get("dirs", {}).items():
        dirs[label] = workdir / label
        _make_tree(dirs[label], entries)
    return dirs


def _spec(case: Case, dirs: Mapping[str, Path], reuse: bool) -> SandboxSpec:
    grants = case.get("grants", {})
    granted_dirs = tuple(
        DirGrant(str(dirs[grant["host"]]), grant["guest"], read_only=grant.get("mode", "ro") == "ro")
        for grant in grants.get("dirs", [])
    )
    return SandboxSpec(timeout_ms=TIMEOUT_MS, reuse_instance=reuse, env=tuple(grants.get("env", [])), dirs=granted_dirs)


def _load_sandboxed(
    runtimes: Runtimes, module: Module, case: Case, workdir: Path, reuse: bool
) -> tuple[LoadedHandler, dict[str, Path]]:
    """The handler with the case's grants, over a fresh copy of the case's host."""
    dirs = _make_host_dirs(case, workdir)
    runtime = runtimes(case.get("host", {}).get("env", {}))
    return runtime.load(module.path, _spec(case, dirs, reuse)), dirs


def _check_files(module: Module, case: Case, dirs: Mapping[str, Path]) -> None:
    for label, files in case.get("files_after", {}).items():
        for name, expected in files.items():
            path = dirs[label] / name
            where = f"{module.label} on {case['name']!r}: {label}/{name}"
            if expected is None:
                assert not path.exists(), f"{where} exists"
            else:
                assert path.is_file(), f"{where} is missing"
                assert path.read_bytes() == expected.encode("utf-8"), f"{where} holds {path.read_bytes()!r}"


def _verdict(result: CallResult) -> tuple[bool, FailureKind | None, bool, str | None]:
    return (result.ok, result.kind, result.permanent, result.error)


def _snapshot(dirs: Mapping[str, Path]) -> dict[str, dict[str, bytes]]:
    return {
        label: {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*")) if f.is_file()}
        for label, root in dirs.items()
    }


def _input_text(case: Case) -> str:
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


def _check(module: Module, case: Case, result: CallResult) -> None:
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
    if "message" in expected:
        assert result.error == expected["message"], f"{where}: error {result.error!r}"
    else:
        assert expected["contains"] in (result.error or ""), f"{where}: error {result.error!r} lacks {expected['contains']!r}"


@pytest.fixture(scope="session")
def runtimes(request: pytest.FixtureRequest) -> Iterator[Runtimes]:
    """One runtime per host environment a case describes, all sharing one module cache."""
    configured = os.environ.get("OTTERMQ_WASM_TEST_CACHE")
    cache_dir = Path(configured) if configured else request.config.cache.mkdir("ottermq-wasm-modules")
    made: dict[frozenset[tuple[str, str]], WasmRuntime] = {}

    def get(env: Mapping[str, str]) -> WasmRuntime:
        key = frozenset(env.items())
        if key not in made:
            made[key] = WasmRuntime(cache_dir=cache_dir, env=dict(env))
        return made[key]

    yield get
    for rt in made.values():
        rt.close()


@pytest.fixture(scope="session")
def load(runtimes: Runtimes) -> Loader:
    """Loads each (module, reuse) once per session, granting nothing: the runtime compiles a module once per content."""
    loaded: dict[tuple[Path, bool], LoadedHandler] = {}

    def get(module: Module, reuse: bool) -> LoadedHandler:
        key = (module.path, reuse)
        if key not in loaded:
            loaded[key] = runtimes({}).load(module.path, SandboxSpec(timeout_ms=TIMEOUT_MS, reuse_instance=reuse))
        return loaded[key]

    return get


@pytest.mark.parametrize(("module", "case"), list(_case_params()))
def test_case_with_a_fresh_instance(load: Loader, runtimes: Runtimes, module: Module, case: Case, tmp_path: Path) -> None:
    if not _sandboxed(case):
        _check(module, case, load(module, False).call(_input_text(case)))
        return
    handler, dirs = _load_sandboxed(runtimes, module, case, tmp_path, reuse=False)
    _check(module, case, handler.call(_input_text(case)))
    _check_files(module, case, dirs)


@pytest.mark.parametrize("module", MODULES, ids=[m.label for m in MODULES])
def test_cases_with_a_reused_instance(load: Loader, runtimes: Runtimes, module: Module, tmp_path: Path) -> None:
    handler = load(module, True)
    # A case with grants has a spec of its own, hence a handler (and an instance) of its own.
    sandboxed: dict[str, tuple[LoadedHandler, dict[str, Path]]] = {}
    for _ in range(2):  # every case twice, interleaved, on the same instance where the shape allows one
        for index, case in enumerate(CASES[module.handler]):
            if not _sandboxed(case):
                _check(module, case, handler.call(_input_text(case)))
                continue
            if case["name"] not in sandboxed:
                sandboxed[case["name"]] = _load_sandboxed(runtimes, module, case, tmp_path / str(index), reuse=True)
            own, dirs = sandboxed[case["name"]]
            _check(module, case, own.call(_input_text(case)))
            _check_files(module, case, dirs)


@pytest.mark.parametrize("module", MODULES, ids=[m.label for m in MODULES])
def test_shape_is_the_one_listed(load: Loader, module: Module) -> None:
    assert load(module, False).shape == module.shape


@pytest.mark.skipif(not REBUILT_DIR, reason="only with build.py --check")
@pytest.mark.parametrize("module", [m for m in MODULES if m.label.startswith("rebuilt:")], ids=lambda m: m.label)
def test_rebuilt_module_behaves_like_the_committed_one(runtimes: Runtimes, module: Module, tmp_path: Path) -> None:
    committed_path = MODULES_DIR / module.path.relative_to(Path(str(REBUILT_DIR)))
    committed_module = Module(module.handler, module.language, module.shape, committed_path, "committed")
    for index, case in enumerate(CASES[module.handler]):
        text = _input_text(case)
        old, old_dirs = _load_sandboxed(runtimes, committed_module, case, tmp_path / "committed" / str(index), reuse=False)
        new, new_dirs = _load_sandboxed(runtimes, module, case, tmp_path / "rebuilt" / str(index), reuse=False)
        before, after = old.call(text), new.call(text)
        assert _verdict(after) == _verdict(before), case["name"]
        assert after.output is None or json.loads(after.output) == json.loads(before.output or "null"), case["name"]
        assert _snapshot(new_dirs) == _snapshot(old_dirs), case["name"]


def test_manifest_covers_every_module_and_source() -> None:
    listed = {MODULES_DIR / entry["module"] for entry in MANIFEST}
    on_disk = set(MODULES_DIR.glob("*/*.wasm"))
    assert on_disk == listed, f"not listed: {on_disk - listed}; missing: {listed - on_disk}"
    worlds = (MODULES_DIR / "wit" / "handler.wit").read_text(encoding="utf-8")
    for entry in MANIFEST:
        assert (MODULES_DIR / entry["source"]).is_file(), entry["source"]
        assert entry["handler"] in CASES, entry["handler"]
        assert entry["language"] in LANGUAGES and entry["shape"] in SHAPES, entry
        if "world" in entry:
            assert entry["shape"] == "component" and f"world {entry['world']} {{" in worlds, entry


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
    for handler in ("charge_payment", "load_records", "write_report"):
        retryable = [case for case in CASES[handler] if case.get("error", {}).get("permanent") is False]
        assert retryable, f"{handler} must show a retryable failure"


def test_case_sandboxes_are_well_formed() -> None:
    for handler, cases in CASES.items():
        for case in cases:
            where = f"{handler}: {case['name']!r}"
            assert set(case) <= CASE_KEYS, f"{where}: unknown keys {set(case) - CASE_KEYS}"
            assert ("input" in case) != ("input_text" in case) and ("output" in case) != ("error" in case), where
            host_dirs = case.get("host", {}).get("dirs", {})
            grants = case.get("grants", {})
            assert set(case.get("host", {})) <= {"env", "dirs"} and set(grants) <= {"env", "dirs"}, where
            for grant in grants.get("dirs", []):
                assert grant["host"] in host_dirs and grant["guest"].startswith("/"), where
                assert grant.get("mode", "ro") in ("ro", "rw"), where
            assert set(case.get("files_after", {})) <= set(host_dirs), where


def test_cases_show_that_nothing_is_reachable_without_a_grant() -> None:
    def ungranted(case: Case, kind: str) -> bool:
        return bool(case.get("host", {}).get(kind)) and not case.get("grants", {}).get(kind)

    # The worker has the file, the directory is not granted: a retryable failure.
    assert any(ungranted(c, "dirs") and c.get("error", {}).get("permanent") is False for c in CASES["load_records"])
    # Granted read-only: writing fails, retryably, and leaves no file.
    read_only = [
        c for c in CASES["write_report"] if any(g.get("mode", "ro") == "ro" for g in c.get("grants", {}).get("dirs", []))
    ]
    assert any(c.get("error", {}).get("permanent") is False and c.get("files_after") for c in read_only)
    # The worker has the variable, the spec does not grant it: the default behaviour.
    assert any(
        ungranted(c, "env") and c.get("output", {}).get("transaction_id", "").startswith("txn-") for c in CASES["charge_payment"]
    )
