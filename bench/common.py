"""Helpers shared by the benchmarks in bench/: machine details, temporary projects, timing, retries, results.

The benchmarks measure ratios within one run on one machine. They print what they measured and the
target each ratio should meet; they never fail (exit 0 unless the benchmark itself could not run).
"""

import contextlib
import ctypes.util
import hashlib
import importlib.metadata
import io
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sources" / "csto-astana-2018.yaml"
RESULT_PREFIX = "BENCH-RESULT "
# The templates may be edited while a benchmark runs: a render that fails is retried after a pause.
RETRIES = int(os.environ.get("BENCH_RETRIES", "3"))
RETRY_PAUSE = float(os.environ.get("BENCH_RETRY_PAUSE", "60"))

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------- tools


def tool(name: str) -> str:
    """A console script of the Python running the benchmark (its venv's bin/), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"bench: cannot find the '{name}' command next to {sys.executable} nor on PATH")
    return found


def default_jobs() -> int:
    """What `briefgen build` uses when --jobs is not given: the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# ------------------------------------------------------------------------------------------ machine


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory_total() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def harfbuzz_subset() -> str:
    """Whether WeasyPrint subsets fonts with libharfbuzz-subset (fast) or falls back to fontTools (slow)."""
    try:
        from weasyprint.text import ffi
    except Exception as exc:  # a broken WeasyPrint install is itself worth printing
        return f"unknown (cannot import weasyprint: {exc})"
    library = ctypes.util.find_library("harfbuzz-subset")
    version = "?"
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libharfbuzz = ctypes.CDLL(ctypes.util.find_library("harfbuzz"))
        libharfbuzz.hb_version_string.restype = ctypes.c_char_p
        version = libharfbuzz.hb_version_string().decode()
    if ffi.harfbuzz_subset is None:
        return f"ABSENT: WeasyPrint falls back to fontTools, about 4x slower (HarfBuzz {version})"
    if not ffi.harfbuzz.hb_version_atleast(4, 1, 0):
        return f"present but too old (HarfBuzz {version} < 4.1.0): WeasyPrint uses fontTools"
    return f"present ({library or 'loaded'}, HarfBuzz {version})"


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    return "unknown"


def cpu_idle(seconds: float = 1.0) -> float | None:
    """The share of all CPUs' time that was idle over the next `seconds` (from /proc/stat), or None."""

    def sample() -> list[int]:
        return [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]

    try:
        before = sample()
        time.sleep(seconds)
        after = sample()
    except (OSError, ValueError):
        return None
    spent = [b - a for a, b in zip(before, after, strict=False)]
    return spent[3] / sum(spent) if sum(spent) else None


def print_machine(title: str, theme: str | None = None) -> None:
    """The header every benchmark prints: what ran (in which theme, when not the sample's), on what."""
    import briefgen

    print(f"== {title}{f', theme {theme}' if theme else ''} ==")
    print(f"date:           {time.strftime('%Y-%m-%d %H:%M:%S %z')}")
    print(f"CPU:            {_cpu_model()}")
    print(f"cores:          {os.cpu_count()} online, {default_jobs()} usable by this process")
    print(f"memory:         {_memory_total()}")
    print(f"OS:             {platform.platform()}")
    print(f"Python:         {platform.python_version()} ({sys.executable})")
    print(f"briefgen:       {briefgen.__version__} ({Path(briefgen.__file__).parent})")
    print(f"WeasyPrint:     {_version('weasyprint')}; pikepdf {_version('pikepdf')}; pydyf {_version('pydyf')}")
    print(f"harfbuzz-subset: {harfbuzz_subset()}")
    idle = cpu_idle()
    shown = "unknown" if idle is None else f"{idle:.0%}"
    print(f"CPU idle:       {shown} over the last second; load average {load_average()} (1, 5, 15 min)")
    if idle is not None and idle < 0.8:
        print("WARNING: the machine is busy; wall times and ratios will be off. Prefer an idle machine.")
    print(flush=True)


# ------------------------------------------------------------------------------------------ results


def ratio_line(label: str, ratio: float, target: str | None = None, met: bool | None = None) -> str:
    verdict = "" if met is None else ("  MET" if met else "  NOT MET")
    aim = f"  (target {target}){verdict}" if target else ""
    return f"{label}: {ratio:.2f}x{aim}"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def emit_result(data: dict) -> None:
    """How a child process hands its measurements to the parent benchmark."""
    print(RESULT_PREFIX + json.dumps(data), flush=True)


def parse_result(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError("the child process printed no result")


# ------------------------------------------------------------------------------------------ projects


def make_project(count: int, prefix: str = "briefgen-bench-", theme: str | None = None) -> Path:
    """A temporary project whose sources/ holds count copies of the sample, as brief-001 ... brief-NNN; with
    theme, a briefgen.yaml that renders every brief in that theme (`memo`, say: one page instead of six)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    (root / "sources").mkdir()
    for number in range(1, count + 1):
        shutil.copyfile(SAMPLE, root / "sources" / f"brief-{number:03d}.yaml")
    if theme:
        (root / "briefgen.yaml").write_text(f"theme: {theme}\n", encoding="utf-8")
    return root


def remove_project(root: Path, keep: bool) -> None:
    if keep:
        print(f"(kept the temporary project in {root})")
    else:
        shutil.rmtree(root, ignore_errors=True)


def print_html(source: Path, project_root: Path, edition: str | None = None) -> str:
    """The HTML briefgen hands WeasyPrint for the PDF, with its styles inline (briefgen.pipeline.print_html)."""
    from briefgen import pipeline

    return pipeline.print_html(source, pipeline.Project.open(project_root), edition)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def decompressed_sha256(path: Path) -> str:
    """The sha256 of the PDF rewritten by qpdf with every stream decoded, no object streams and a fixed file
    identifier: the same for two PDFs that differ only in how they deflate (briefgen's zlib-ng, WeasyPrint's
    zlib)."""
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(path) as pdf:
        pdf.save(
            out,
            qdf=True,
            static_id=True,
            compress_streams=False,
            stream_decode_level=pikepdf.StreamDecodeLevel.generalized,
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
        )
    return hashlib.sha256(out.getvalue()).hexdigest()


# ------------------------------------------------------------------------------------------ timing


@dataclass(frozen=True)
class Timed:
    wall: float
    cpu: float  # user + system seconds of the finished child processes (and their children)
    stdout: str
    stderr: str


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CommandFailed(Exception):
    def __init__(self, command: Sequence[str], code: int, stdout: str, stderr: str) -> None:
        tail = "\n".join((stderr or stdout).strip().splitlines()[-15:])
        super().__init__(f"`{' '.join(command)}` exited with {code}:\n{tail}")


def run(command: Sequence[str], cwd: Path) -> Timed:
    """Run a command to completion; its wall time, the CPU time it used, and its output. Raise if it failed."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise CommandFailed(command, done.returncode, done.stdout, done.stderr)
    return Timed(wall, _children_cpu() - cpu, done.stdout, done.stderr)


def retrying(what: str, attempt: Callable[[], T]) -> T:
    """Run attempt(); if it fails (a half-edited template, say), wait and run it again, a few times."""
    from briefgen.errors import BriefgenError

    for number in range(1, RETRIES + 1):
        try:
            return attempt()
        except (CommandFailed, BriefgenError) as exc:
            if number == RETRIES:
                raise
            detail = "\n".join(str(d) for d in exc.diagnostics) if isinstance(exc, BriefgenError) else str(exc)
            print(f"[{what} failed, attempt {number} of {RETRIES}; retrying in {RETRY_PAUSE:.0f} s]\n{detail}")
            sys.stdout.flush()
            time.sleep(RETRY_PAUSE)
    raise AssertionError("unreachable")


def build_counts(stdout: str) -> dict[str, int]:
    """The counts of the last line of `briefgen build`: '20 built, 0 skipped, 0 failed; manifest in ...'."""
    found = re.search(r"(\d+) built, (\d+) skipped, (\d+) failed", stdout)
    if found is None:
        return {}
    return dict(zip(("built", "skipped", "failed"), map(int, found.groups()), strict=True))


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """with stopwatch() as elapsed: ...; then elapsed[0] holds the seconds."""
    elapsed: list[float] = []
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.append(time.perf_counter() - started)


# ------------------------------------------------------------------------------------------ memory


def rss_now_kib() -> int:
    """The resident set size of this process now (VmRSS), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds() -> float:
    """CPU time (user and system) of this process and of its children that have ended."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


def rss_peak_kib() -> int:
    """The peak resident set size so far (ru_maxrss; KiB on Linux) of this process or, when larger, of the
    largest of its children that have ended: a build worker's copies, each the worker's size and what its
    renders left for the collector."""
    return max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"
