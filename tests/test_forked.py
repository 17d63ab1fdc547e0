"""Work in a throwaway copy of a process (briefgen.forked), and build workers rendering in copies.

Each test runs its Python in a child process: copies are made with fork, which a test process with
pytest's threads must not do, and a worker's set-up changes the collector for good.
"""

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import SAMPLE_TEXT, child_env, make_project

RENDERED_HERE = 0.2  # CPU seconds: more than making a copy takes, less than rendering the sample or a memo
COPY_ENDS_WITHIN = 30  # seconds; the kernel kills a copy as its parent ends, far sooner


def python(code: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh Python, capturing what it prints."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_work_runs_in_a_copy_that_leaves_this_process_as_it_was() -> None:
    proc = python(
        """
        import json, os
        from briefgen import forked

        seen = ["before"]

        def work():
            seen.append("in the copy")
            return {"pid": os.getpid(), "seen": list(seen)}

        print(json.dumps({"available": forked.available(), "ours": os.getpid(), "copy": forked.in_a_copy(work),
                          "seen after": seen}))
        """
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["available"] is True
    assert report["copy"]["pid"] != report["ours"]
    assert report["copy"]["seen"] == ["before", "in the copy"]
    assert report["seen after"] == ["before"]


def test_what_the_copy_raises_is_raised_here() -> None:
    proc = python(
        """
        import threading
        from briefgen import forked

        def fails():
            raise ValueError("no such brief")

        def fails_with_a_lock():  # an exception holding a lock cannot be pickled: its text comes back
            error = KeyError("held")
            error.lock = threading.Lock()
            raise error

        for work in (fails, fails_with_a_lock):
            try:
                forked.in_a_copy(work)
            except Exception as exc:
                print(type(exc).__name__, "|", str(exc).strip().splitlines()[-1])
        """
    )
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()
    assert first == "ValueError | no such brief"
    assert second.startswith("RuntimeError | ")
    assert "KeyError: 'held'" in second


@pytest.mark.parametrize("number", [signal.SIGKILL, signal.SIGTERM, signal.SIGXCPU])
def test_a_copy_killed_by_a_signal_ends_this_process_by_the_same_signal(number: signal.Signals) -> None:
    """So that a pool sees its worker die as it would have without copies: killed by the out-of-memory killer
    (SIGKILL) or by a CPU-time limit (SIGXCPU)."""
    proc = python(
        f"""
        import os, resource
        from briefgen import forked

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        forked.in_a_copy(lambda: os.kill(os.getpid(), {int(number)}))
        print("still here")
        """
    )
    assert proc.returncode == -number
    assert "still here" not in proc.stdout


def test_a_copy_ends_with_the_process_it_copies(tmp_path: Path) -> None:
    pid_file = tmp_path / "copy.pid"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import os, time
                from pathlib import Path
                from briefgen import forked

                def work():
                    Path({str(pid_file)!r}).write_text(str(os.getpid()))
                    time.sleep(600)

                forked.in_a_copy(work)
                """
            ),
        ],
        env=child_env(),
    )
    try:
        copy = wait_for_pid(pid_file, parent)
        parent.kill()
        parent.wait(timeout=60)
        deadline = time.monotonic() + COPY_ENDS_WITHIN
        while running(copy) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(copy), "the copy outlived the process it copies"
    finally:
        if parent.poll() is None:
            parent.kill()


def wait_for_pid(pid_file: Path, parent: subprocess.Popen[bytes]) -> int:
    while not pid_file.exists() or not pid_file.read_text():
        assert parent.poll() is None, f"the parent ended with {parent.returncode} before starting its copy"
        time.sleep(0.05)
    return int(pid_file.read_text())


def running(pid: int) -> bool:
    """Whether pid is a process that has not ended (a zombie has)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_no_copies_from_a_process_with_threads() -> None:
    proc = python(
        """
        import threading
        from briefgen import forked

        alone = forked.available()
        stop = threading.Event()
        thread = threading.Thread(target=stop.wait)
        thread.start()
        print(alone, forked.available())
        stop.set()
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "False"]


def test_a_worker_renders_in_copies_once_its_caches_are_warm(tmp_path: Path) -> None:
    """A worker renders its first brief itself, filling the caches the copies share, and the next in a copy
    (whose CPU time shows as a child's). A brief in another theme, for which a copy has to fill them again,
    is rendered again by the worker itself, once; the briefs of either theme after it render in copies. The
    bytes are the same whichever process printed them."""
    memo = SAMPLE_TEXT.replace("  language: en\n", "  language: en\n  theme: memo\n")
    assert memo != SAMPLE_TEXT
    root = make_project(tmp_path, {"brief.yaml": SAMPLE_TEXT, "memo.yaml": memo})
    proc = python(
        """
        import json, resource
        from pathlib import Path
        from briefgen.batch import RenderTask, prepare_worker, run_many
        from briefgen.formats import Format
        from briefgen.pipeline import Project

        def cpu(who):
            usage = resource.getrusage(who)
            return usage.ru_utime + usage.ru_stime

        project = Project.open(Path.cwd())
        prepare_worker()
        report = []
        for name in ["brief", "brief", "memo", "brief", "memo", "memo"]:
            here, copies = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
            result = run_many(RenderTask(Path("sources", name + ".yaml"), project, (Format.PDF,)))
            here, copies = cpu(resource.RUSAGE_SELF) - here, cpu(resource.RUSAGE_CHILDREN) - copies
            report.append([name, here, copies, result.rendered.outputs[Format.PDF].hex()])
        print(json.dumps(report))
        """,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    # a render takes a good part of a second of CPU; making a copy and reading its result, milliseconds
    where = [(here > RENDERED_HERE, copies > RENDERED_HERE) for _, here, copies, _ in report]
    assert where == [(True, False), (False, True), (True, True), (False, True), (False, True), (False, True)]
    pdfs = {name: {pdf for other, _, _, pdf in report if other == name} for name in ("brief", "memo")}
    assert len(pdfs["brief"]) == 1, "a brief printed in a copy differs from the one printed in the worker"
    assert len(pdfs["memo"]) == 1
    assert pdfs["brief"] != pdfs["memo"]
