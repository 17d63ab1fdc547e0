"""Work in copies of a process (briefgen.forked), and build workers rendering in copies.

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

RENDERED_HERE = 0.05  # CPU seconds: more than sending work to a copy (about 4 ms), less than rendering a memo (0.18)
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

        copies = forked.Copies()
        print(json.dumps({"available": forked.available(), "ours": os.getpid(), "first": copies.run(work),
                          "second": copies.run(work), "seen after": seen}))
        """
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["available"] is True
    assert report["first"]["pid"] != report["ours"]
    assert report["second"]["pid"] == report["first"]["pid"], "the second piece of work had a copy of its own"
    assert report["first"]["seen"] == ["before", "in the copy"]
    assert report["second"]["seen"] == ["before", "in the copy", "in the copy"]
    assert report["seen after"] == ["before"]


def test_a_copy_ends_after_its_share_of_work_or_once_it_has_grown_too_much() -> None:
    """The next piece of work then goes to a new copy; what the last one kept is gone with it."""
    proc = python(
        """
        import json, os, resource
        from briefgen import forked

        kept = []

        def pid():
            return os.getpid(), len(kept)

        def grow():
            kept.append(bytearray(24 * 2**20))  # zeroed, so resident
            return pid()

        def children_cpu():
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            return usage.ru_utime + usage.ru_stime

        def busy():
            end = resource.getrusage(resource.RUSAGE_SELF).ru_utime + 0.3
            while resource.getrusage(resource.RUSAGE_SELF).ru_utime < end:
                pass

        by_count = forked.Copies(works_per_copy=2)
        counted = [by_count.run(pid)[0] for _ in range(5)]
        by_growth = forked.Copies(works_per_copy=100, growth_allowed=16 * 2**20)
        grown = [by_growth.run(pid), by_growth.run(grow), by_growth.run(grow), by_growth.run(pid)]
        closing = forked.Copies()
        closing.run(busy)
        before = children_cpu()
        closing.close()
        print(json.dumps({"counted": counted, "grown": grown, "closed": children_cpu() - before}))
        """
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    first, second, third = report["counted"][0], report["counted"][2], report["counted"][4]
    assert report["counted"] == [first, first, second, second, third]
    assert len({first, second, third}) == 3
    (one, none), (same, one_kept), (other, two_kept), (last, none_kept) = report["grown"]
    assert (none, one_kept, two_kept, none_kept) == (0, 1, 1, 0)
    assert one == same and other != one and last != other, report["grown"]
    assert report["closed"] > 0.25, "closing did not wait for the copy, whose time counts as this process's"


def test_what_the_copy_raises_is_raised_here() -> None:
    proc = python(
        """
        import os, threading
        from briefgen import forked

        def fails():
            raise ValueError("no such brief")

        def fails_with_a_lock():  # an exception holding a lock cannot be pickled: its text comes back
            error = KeyError("held")
            error.lock = threading.Lock()
            raise error

        copies = forked.Copies()
        for work in (fails, fails_with_a_lock, os.getpid):
            try:
                print(type(copies.run(work)).__name__, "| the copy is still there")
            except Exception as exc:
                print(type(exc).__name__, "|", str(exc).strip().splitlines()[-1])
        """
    )
    assert proc.returncode == 0, proc.stderr
    first, second, third = proc.stdout.splitlines()
    assert first == "ValueError | no such brief"
    assert second.startswith("RuntimeError | ")
    assert "KeyError: 'held'" in second
    assert third == "int | the copy is still there"


@pytest.mark.parametrize("number", [signal.SIGKILL, signal.SIGTERM, signal.SIGXCPU])
@pytest.mark.parametrize("when", ["working", "waiting for work"])
def test_a_copy_killed_by_a_signal_ends_this_process_by_the_same_signal(number: signal.Signals, when: str) -> None:
    """So that a pool sees its worker die as it would have without copies: killed by the out-of-memory killer
    (SIGKILL) or by a CPU-time limit (SIGXCPU), while it works or between two pieces of work."""
    proc = python(
        f"""
        import os, resource, signal
        from briefgen import forked

        def killed():
            os.kill(os.getpid(), {int(number)})

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        copies = forked.Copies()
        if {when == "waiting for work"}:
            os.kill(copies.run(os.getpid), {int(number)})
            copies.run(os.getpid)
        else:
            copies.run(killed)
        print("still here")
        """
    )
    assert proc.returncode == -number, proc.stderr
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

                forked.Copies().run(work)
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
    """A worker renders its first brief itself, filling the caches the copies share, and the next in a copy.
    A brief in another theme, for which a copy has to fill them again, is rendered again by the worker
    itself, once; the briefs of either theme after it render in copies. The bytes are the same whichever
    process printed them."""
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

        def cpu():
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime

        project = Project.open(Path.cwd())
        prepare_worker()
        report = []
        for name in ["brief", "brief", "memo", "brief", "memo", "memo"]:
            here = cpu()
            result = run_many(RenderTask(Path("sources", name + ".yaml"), project, (Format.PDF,)))
            report.append([name, cpu() - here, result.rendered.outputs[Format.PDF].hex()])
        print(json.dumps(report))
        """,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    # a render takes a good part of a second of CPU; sending one to a copy and reading its result, milliseconds
    rendered_here = [here > RENDERED_HERE for _, here, _ in report]
    assert rendered_here == [True, False, True, False, False, False]
    pdfs = {name: {pdf for other, _, pdf in report if other == name} for name in ("brief", "memo")}
    assert len(pdfs["brief"]) == 1, "a brief printed in a copy differs from the one printed in the worker"
    assert len(pdfs["memo"]) == 1
    assert pdfs["brief"] != pdfs["memo"]
