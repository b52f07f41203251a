"""One build function per (language, shape): source file in, .wasm file out."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tools.toolchains import DEBIAN_CARGO, BuildError, Toolchains, run

__all__ = ["Module", "build"]

ROOT = Path(__file__).resolve().parents[1]  # wasm_modules/
WIT = ROOT / "wit"
WORLD = "handler"
C_RUNTIME = ROOT / "c" / "runtime"
C_FLAGS = ("-O2", "-s", "-std=c11", "-Wall", "-Wextra", "-Werror")


@dataclass(frozen=True, slots=True)
class Module:
    """One entry of handlers.json."""

    handler: str
    language: str
    shape: str
    source: str  # relative to wasm_modules/
    module: str  # relative to wasm_modules/ (or to --out)
    world: str = WORLD  # the WIT world a component targets (wit/handler.wit)

    @property
    def source_path(self) -> Path:
        return ROOT / self.source


Builder = Callable[[Module, Path, Toolchains, Path], None]


def build(module: Module, out: Path, tc: Toolchains) -> None:
    """Builds ``module`` into ``out`` (a .wasm path); BuildError on failure."""
    builder = BUILDERS.get((module.language, module.shape))
    if builder is None:
        raise BuildError(f"{module.module}: no {module.shape} build for {module.language}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ottermq-build-") as work:
        builder(module, out, tc, Path(work))
    if not out.is_file():
        raise BuildError(f"{module.module}: the build produced no module")


def _c_command(module: Module, out: Path, tc: Toolchains, work: Path) -> None:
    # files.c costs nothing in handlers that open no file: the linker drops it.
    sources = [module.source_path, C_RUNTIME / "json.c", C_RUNTIME / "files.c", C_RUNTIME / "command.c"]
    run([*tc.zig(), "cc", "-target", "wasm32-wasi", *C_FLAGS, "-o", out, *sources], env=tc.env())


def _c_core(module: Module, out: Path, tc: Toolchains, work: Path) -> None:
    # Freestanding: no libc and no imports at all; runtime/core.c brings its own allocator.
    sources = [module.source_path, C_RUNTIME / "json.c", C_RUNTIME / "core.c"]
    target = ["-target", "wasm32-freestanding", "-nostdlib", "-Wl,--no-entry"]
    run([*tc.zig(), "cc", *target, *C_FLAGS, "-o", out, *sources], env=tc.env())


def _c_component(module: Module, out: Path, tc: Toolchains, work: Path) -> None:
    # The core module already exports the canonical-ABI lowering of `handle`, so
    # wasm-tools only has to wrap it: embed the WIT world, then lift.
    core, embedded = work / "core.wasm", work / "embedded.wasm"
    _c_core(module, core, tc, work)
    wasm_tools = tc.venv_tool("wasm-tools")
    run([wasm_tools, "component", "embed", WIT, "--world", module.world, core, "-o", embedded])
    run([wasm_tools, "component", "new", embedded, "-o", out])


def _zig_command(module: Module, out: Path, tc: Toolchains, work: Path) -> None:
    flags = ["-target", "wasm32-wasi", "-O", "ReleaseSmall", "-fstrip", f"-femit-bin={out}"]
    run([*tc.zig(), "build-exe", module.source_path, *flags], cwd=work, env=tc.env())


def _rust_core(module: Module, out: Path, tc: Toolchains, work: Path) -> None:
    crate = Path(module.source).parts[1]  # rust/<crate>/src/lib.rs
    target_dir = tc.root / "rust-target"
    flags = ["--release", "--offline", "--locked", "--package", crate, "--target-dir", target_dir]
    run([DEBIAN_CARGO, "build", *flags], cwd=ROOT / "rust", env=tc.env())
    shutil.copyfile(target_dir / "wasm32-wasi" / "release" / f"{crate}.wasm", out)


def _assemblyscript_core(module: Module, out: Path, tc: Toolchains, work: Path) -> None:
    # `--use abort=...` replaces the `env.abort` import, so the module imports nothing.
    flags = ["-O3", "--noAssert", "--runtime", "incremental", "--use", "abort=lib/handler/abort", "-o", out]
    run(["node", tc.asc, module.source_path.name, *flags], cwd=module.source_path.parent)


def _go_command(module: Module, out: Path, tc: Toolchains, work: Path) -> None:
    env = dict(tc.env(), GOOS="wasip1", GOARCH="wasm")
    package = "./" + Path(module.source).parts[1]  # go/<package>/main.go
    # -buildvcs=false: otherwise Go stamps the repository's commit into the
    # module, and every commit would change the bytes of an unchanged handler.
    flags = ["-buildvcs=false", "-ldflags=-s -w -buildid="]
    run([tc.venv_tool("go"), "build", *flags, "-o", out, package], cwd=ROOT / "go", env=env)


def _python_component(module: Module, out: Path, tc: Toolchains, work: Path) -> None:
    # componentize-py bundles what it finds on its path: give it exactly the
    # handler and its support module (no __pycache__, no other handlers).
    app = work / "app"
    app.mkdir()
    for source in (module.source_path, module.source_path.with_name("ottermq_handler.py")):
        shutil.copyfile(source, app / source.name)
    componentize_py = tc.venv_tool("componentize-py")
    run([componentize_py, "-d", WIT, "-w", module.world, "componentize", "-p", app, module.source_path.stem, "-o", out], cwd=work)


def _javascript_component(module: Module, out: Path, tc: Toolchains, work: Path) -> None:
    script = ROOT / "tools" / "componentize.mjs"
    run(["node", script, tc.componentize_js, module.source_path, WIT, module.world, out], cwd=work)


BUILDERS: Mapping[tuple[str, str], Builder] = {
    ("c", "command"): _c_command,
    ("c", "core"): _c_core,
    ("c", "component"): _c_component,
    ("zig", "command"): _zig_command,
    ("rust", "core"): _rust_core,
    ("assemblyscript", "core"): _assemblyscript_core,
    ("go", "command"): _go_command,
    ("python", "component"): _python_component,
    ("javascript", "component"): _javascript_component,
}
