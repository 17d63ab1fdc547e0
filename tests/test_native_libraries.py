"""Looking up WeasyPrint's native libraries from one reading of ldconfig's cache."""

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from briefgen.native_libraries import libraries_from_ldconfig_cache

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldconfig's cache is Linux's")


def _no_process(*args: object, **kwargs: object) -> None:
    raise AssertionError(f"a process was started: {args}")


def test_lookups_in_the_block_start_no_process(monkeypatch: pytest.MonkeyPatch) -> None:
    with libraries_from_ldconfig_cache():
        monkeypatch.setattr(subprocess, "Popen", _no_process)
        assert ctypes.util.find_library("c") == "libc.so.6"
        assert ctypes.util.find_library("pango-1.0") == "libpango-1.0.so.0"
        assert ctypes.util.find_library("no-such-library-anywhere") is None


def test_find_library_is_itself_again_after_the_block() -> None:
    original = ctypes.util.find_library
    with libraries_from_ldconfig_cache():
        assert ctypes.util.find_library is not original
    assert ctypes.util.find_library is original


def test_importing_weasyprint_runs_no_compiler_and_finds_every_library(tmp_path: Path) -> None:
    """In a fresh process whose gcc and ld leave a mark when run: importing our printer leaves none."""
    bin_dir, marks = tmp_path / "bin", tmp_path / "marks"
    bin_dir.mkdir()
    for tool in ("gcc", "cc", "ld", "objdump"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho {tool} >> "{marks}"\nexit 1\n')
        (bin_dir / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}

    def run(code: str) -> str:
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        return done.stdout

    run("import ctypes.util; ctypes.util.find_library('no-such-library-anywhere')")
    assert marks.read_text().split(), "the fake compiler should catch a lookup outside the block"
    marks.unlink()
    found = run(
        "import briefgen.print_pdf\n"
        "from weasyprint.text import ffi\n"
        "names = ('gobject', 'pango', 'pangoft2', 'harfbuzz', 'harfbuzz_subset', 'fontconfig')\n"
        "print(' '.join(name for name in names if getattr(ffi, name) is not None))"
    )
    assert found.split() == ["gobject", "pango", "pangoft2", "harfbuzz", "harfbuzz_subset", "fontconfig"]
    assert not marks.exists()
