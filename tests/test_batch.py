"""Batch builds: warm worker processes and a Dask cluster give the bytes a build in one process gives.

Three copies of the sample, each with its own title, make the batch; a broken copy must fail alone.
Every build runs through the command line in a temporary project.
"""

import contextlib
import fcntl
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from helpers import (
    MEMO_TEXT,
    SAMPLE_TEXT,
    as_a_foreground_job,
    assert_no_traceback,
    child_env,
    column_of,
    folder_lock,
    line_of,
    make_project,
    pdf_text,
    processes_in,
    replace_line,
    replace_once,
    run_briefgen,
)
from pypdf import PdfReader

from briefgen.batch import RENDERS_PER_WORKER

TITLE = "United on arms control, divided over itself: the CSTO after Astana"
BRIEFS = {"brief-a": "Brief A", "brief-b": "Brief B", "brief-c": "Brief C"}
SERIES = line_of(SAMPLE_TEXT, "  series: Commentary")
DIAGNOSTIC = re.compile(r"^\S+?:\d+(?::\d+)?: (?:error|warning): ")
SUMMARY = re.compile(r"^(\d+) built, (\d+) skipped, (\d+) failed; manifest in (\S+)$")
UNREACHABLE = "tcp://127.0.0.1:1"


def titled(brief_id: str, label: str | None = None) -> str:
    """The sample with a title of its own, so each brief's output shows which source it came from."""
    return replace_once(SAMPLE_TEXT, f'title: "{TITLE}"', f'title: "{label or BRIEFS[brief_id]}: {TITLE}"')


BROKEN_ID = "brief-x"
BROKEN = replace_line(titled(BROKEN_ID, "Brief X"), SERIES, "Commentary", "NO")  # unquoted NO: a boolean
BROKEN_AT = f"sources/{BROKEN_ID}.yaml:{SERIES}:{column_of(SAMPLE_TEXT, SERIES, 'Commentary')}: error: "


def batch_project(root: Path, with_broken: bool = False) -> Path:
    """Three good briefs and, if asked, a fourth whose series is an unquoted NO, a located validation error."""
    sources = {f"{brief_id}.yaml": titled(brief_id) for brief_id in BRIEFS}
    if with_broken:
        sources[f"{BROKEN_ID}.yaml"] = BROKEN
    return make_project(root, sources)


def start_briefgen(*args: object, cwd: Path, tmpdir: Path | None = None) -> subprocess.Popen[str]:
    """Start `python -m briefgen ARGS`; with tmpdir, its temporary files (and its workers') go there."""
    return subprocess.Popen(
        [sys.executable, "-m", "briefgen", *(str(arg) for arg in args)],
        cwd=cwd,
        env=child_env(**({"TMPDIR": str(tmpdir)} if tmpdir else {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    stdout, stderr = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under folder, by relative path, with its bytes."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


def summary(proc: subprocess.CompletedProcess[str]) -> tuple[int, int, int, str]:
    """The counts and manifest path of the summary line, which must be the last line on stdout."""
    lines = proc.stdout.strip().splitlines()
    assert lines, f"nothing on stdout; stderr:\n{proc.stderr}"
    match = SUMMARY.match(lines[-1])
    assert match, f"the last line is not the summary 'N built, N skipped, N failed; manifest in ...': {lines[-1]!r}"
    return int(match[1]), int(match[2]), int(match[3]), match[4]


def manifest_ids(out_dir: Path) -> list[str]:
    return [entry["id"] for entry in json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))["briefs"]]


@pytest.fixture(scope="module", autouse=True)
def unreachable_scheduler_build(tmp_path_factory: pytest.TempPathFactory):
    """A build sent to a scheduler nobody listens on, started with the module and read by its last test, so
    that the time it takes (a refused connection is told at once, a silent address after 10 s) overlaps the
    other tests instead of adding to the suite's."""
    root = batch_project(tmp_path_factory.mktemp("unreachable"))
    proc = start_briefgen("build", "--scheduler", UNREACHABLE, "--format", "html", cwd=root)
    yield root, proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


@pytest.fixture(scope="module")
def worker_builds(tmp_path_factory: pytest.TempPathFactory):
    """The three briefs and a broken one built to PDF and HTML with two workers and with one, at the same time."""
    root = batch_project(tmp_path_factory.mktemp("workers") / "project", with_broken=True)
    started = {}
    for out, jobs in (("parallel", 2), ("serial", 1)):
        (root.parent / f"tmp-{out}").mkdir()
        started[out] = start_briefgen(
            "build", "--jobs", jobs, "--out", out, cwd=root, tmpdir=root.parent / f"tmp-{out}"
        )
    return root, {out: finish(proc) for out, proc in started.items()}


def test_two_workers_give_the_bytes_of_one_process(worker_builds) -> None:
    root, procs = worker_builds
    for out, proc in procs.items():
        assert_no_traceback(proc)
        assert summary(proc) == (3, 0, 1, f"{out}/manifest.json"), proc.stderr
    expected = {f"{brief_id}.{suffix}" for brief_id in BRIEFS for suffix in ("pdf", "html")}
    parallel_files, serial_files = tree(root / "parallel"), tree(root / "serial")
    assert set(parallel_files) == expected | {"manifest.json", "index.html"}
    assert set(serial_files) == set(parallel_files)
    differing = sorted(name for name in parallel_files if parallel_files[name] != serial_files[name])
    assert differing == [], f"--jobs 2 and --jobs 1 outputs differ: {differing}"
    # each worker rendered the source it was given, not another one of the batch
    for brief_id, label in BRIEFS.items():
        path = root / "parallel" / f"{brief_id}.pdf"
        text = pdf_text(path)
        assert f"{label}:" in text
        assert all(f"{other}:" not in text for other in BRIEFS.values() if other != label)
        assert len(PdfReader(path).pages) >= 1


@pytest.mark.parametrize("out", ["parallel", "serial"])
def test_no_temporary_files_are_left_behind(worker_builds, out: str) -> None:
    """WeasyPrint copies the fonts of @font-face rules into a temporary folder per process (3 MB for ours);
    a build must remove its own and its workers' when they end."""
    root, _ = worker_builds
    assert sorted(path.name for path in (root.parent / f"tmp-{out}").iterdir()) == []


@pytest.mark.parametrize("out", ["parallel", "serial"])
def test_a_broken_source_fails_alone(worker_builds, out: str) -> None:
    root, procs = worker_builds
    proc = procs[out]
    assert_no_traceback(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert manifest_ids(root / out) == sorted(BRIEFS)
    assert list((root / out).glob(f"{BROKEN_ID}.*")) == []
    diagnostics = [line for line in proc.stderr.splitlines() if DIAGNOSTIC.match(line)]
    assert any(line.startswith(BROKEN_AT) for line in diagnostics), proc.stderr
    assert all(line.startswith(f"sources/{BROKEN_ID}.yaml:") for line in diagnostics), proc.stderr
    assert not any(brief_id in proc.stderr for brief_id in BRIEFS), proc.stderr


def test_quiet_prints_only_the_summary_and_errors(tmp_path: Path) -> None:
    root = batch_project(tmp_path / "project", with_broken=True)
    proc = run_briefgen("build", "--quiet", "--jobs", "1", "--format", "html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == ["3 built, 0 skipped, 1 failed; manifest in build/manifest.json"], proc.stdout
    assert any(line.startswith(BROKEN_AT) for line in proc.stderr.splitlines()), proc.stderr
    assert not any(brief_id in proc.stderr for brief_id in BRIEFS), proc.stderr

    (root / "sources" / f"{BROKEN_ID}.yaml").write_text(titled(BROKEN_ID, "Brief X"), encoding="utf-8")
    proc = run_briefgen("build", "-q", "--jobs", "1", "--format", "html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["1 built, 3 skipped, 0 failed; manifest in build/manifest.json"], proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize("jobs", ["0", "x", "1.5"])
def test_jobs_must_be_a_positive_whole_number(tmp_path: Path, jobs: str) -> None:
    root = batch_project(tmp_path / "project")
    proc = run_briefgen("build", "--jobs", jobs, "--format", "html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--jobs" in proc.stderr
    assert not (root / "build").exists()


def test_a_dask_cluster_gives_the_bytes_of_a_local_build(tmp_path: Path, dask_scheduler: str) -> None:
    root = batch_project(tmp_path / "project")
    proc = run_briefgen("build", "--scheduler", dask_scheduler, "--format", "html", "--out", "dask", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert summary(proc) == (3, 0, 0, "dask/manifest.json")
    local = run_briefgen("build", "--jobs", "1", "--format", "html", "--out", "local", cwd=root)
    assert local.returncode == 0, local.stderr
    on_dask, here = tree(root / "dask"), tree(root / "local")
    assert set(on_dask) == {f"{brief_id}.html" for brief_id in BRIEFS} | {"manifest.json", "index.html"}
    assert set(here) == set(on_dask)
    assert sorted(name for name in on_dask if on_dask[name] != here[name]) == []
    for brief_id, label in BRIEFS.items():
        assert f"{label}: " in (root / "dask" / f"{brief_id}.html").read_text(encoding="utf-8")


def test_a_warning_made_on_a_dask_worker_names_the_source_as_a_local_build_does(
    tmp_path: Path, dask_scheduler: str
) -> None:
    """The cluster's worker runs in another folder than the build; its messages still name paths from the
    user's folder, so the manifest is the same as a local build's."""
    uncited = SAMPLE_TEXT.replace("sources: [jorbenadze-2018, inf-treaty-1987]", "sources: [jorbenadze-2018]", 1)
    root = make_project(tmp_path / "project", {"warned.yaml": uncited})
    for out, where in (("dask", ["--scheduler", dask_scheduler]), ("local", ["--jobs", "1"])):
        proc = run_briefgen("build", *where, "--format", "html", "--out", out, "--quiet", cwd=root)
        assert proc.returncode == 0, proc.stderr
    [warning] = json.loads((root / "dask" / "manifest.json").read_text(encoding="utf-8"))["briefs"][0]["warnings"]
    assert warning.startswith("sources/warned.yaml:") and "is never cited" in warning, warning
    assert (root / "dask" / "manifest.json").read_text(encoding="utf-8").replace("dask/", "") == (
        root / "local" / "manifest.json"
    ).read_text(encoding="utf-8").replace("local/", "")


def test_an_unreachable_scheduler_is_a_clear_error(unreachable_scheduler_build) -> None:
    root, started = unreachable_scheduler_build
    proc = finish(started, timeout=120)
    assert_no_traceback(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert errors, proc.stderr
    assert errors[0].startswith(f"{UNREACHABLE}: error: "), proc.stderr
    assert "scheduler" in errors[0].lower()
    assert not (root / "build").exists()  # made for the build, and removed again as it stayed empty


@pytest.mark.parametrize(
    ("address", "hint"),
    [("localhost:bad", ""), ("http://127.0.0.1:8786", ""), ("", ""), ("127.0.0.1", "; add the scheduler's port")],
)
def test_a_scheduler_address_dask_cannot_read_is_a_usage_error(tmp_path: Path, address: str, hint: str) -> None:
    root = batch_project(tmp_path / "project")
    proc = run_briefgen("build", "--scheduler", address, "--format", "html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    expected = f"tcp://HOST:PORT (tcp://127.0.0.1:8786, say), not {address!r}{hint}"
    assert expected in proc.stderr.splitlines()[-1], proc.stderr
    assert not (root / "build").exists()


RENDER_MANY = """
import gc, json, sys
from pathlib import Path
from briefgen.batch import Executor, RenderTask, render_all
from briefgen.pipeline import Format, Project

project = Project.open(Path(sys.argv[1]))
gc.collect()  # what importing left in cycles (the pure-Python classes datetime replaces by C ones), not the renders'
if sys.argv[2] == "off":
    gc.disable()
tasks = [RenderTask(source, project, (Format.PDF,)) for source in project.sources()]
with Executor(jobs=1) as executor:
    results = sorted(render_all(tasks, executor), key=lambda result: result.task.source)
collector_on = gc.isenabled()
gc.enable()
print(json.dumps({
    "collector_on": collector_on,
    "frozen": gc.get_freeze_count(),
    "left_unfreed": gc.collect(),  # cyclic garbage the renders left behind, found only now
    "pdfs": [result.rendered.outputs[Format.PDF].hex() for result in results],
}))
"""


@pytest.mark.parametrize("collector", ["on", "off"])
def test_rendering_in_this_process_frees_what_it_can_and_leaves_the_collector_as_found(
    tmp_path: Path, collector: str
) -> None:
    """A build with one job renders in the caller's process, the garbage collector paused during each render:
    the collector comes back as the caller had it, nothing of the caller's is frozen, each render's cyclic
    garbage is already freed, and the same source gives the same bytes every time."""
    root = make_project(tmp_path / "project", {"a.yaml": titled("brief-a"), "b.yaml": titled("brief-a")})
    proc = subprocess.run(
        [sys.executable, "-c", RENDER_MANY, str(root), collector],
        cwd=root,
        env=child_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["collector_on"] is (collector == "on")
    assert report["frozen"] == 0
    assert report["left_unfreed"] < 100  # a render leaves tens of thousands of objects in cycles
    first, second = report["pdfs"]
    assert first == second


def start_pdf_build(root: Path, jobs: int, **env: str) -> tuple[subprocess.Popen[str], str]:
    """Start `briefgen build --format pdf --jobs N` in its own process group, which a terminal's Ctrl-C
    signals as a whole; return it once it has printed its first "built" line, and that line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "build", "--format", "pdf", "--jobs", str(jobs)],
        cwd=root,
        env=child_env(PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1", **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=as_a_foreground_job,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("built"), first
    return proc, first


def ended(proc: subprocess.Popen[str], signal_name: str) -> tuple[str, str]:
    """What a build started by start_pdf_build printed after its first line, once it ended. If it, or anything
    of its session holding its output open, still runs 60 s after the signal: fail with what still ran (state,
    kernel wait channel) and the Python stacks its processes dump on SIGABRT (PYTHONFAULTHANDLER is set)."""
    try:
        return proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        status = proc.poll()  # None: the build itself still runs; a number: something it started holds its output
        columns = "pid,ppid,stat,etime,wchan:32,args"
        left = subprocess.run(["ps", "-o", columns, "-s", str(proc.pid)], capture_output=True, text=True)
        os.killpg(proc.pid, signal.SIGABRT)
        try:
            _, stderr = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            stderr = "(nothing more within 20 s of SIGABRT)"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(
            f"the build did not end within 60 s of {signal_name} (its exit status: {status}); still running:\n"
            f"{left.stdout}\nits stderr, with the stacks dumped on SIGABRT:\n{stderr}"
        ) from None


def interrupt(proc: subprocess.Popen[str], first: str) -> None:
    """Ctrl-C: the build must stop with exit 130, saying so, without a traceback."""
    os.killpg(proc.pid, signal.SIGINT)
    rest, stderr = ended(proc, "Ctrl-C")
    assert_no_traceback(subprocess.CompletedProcess(proc.args, proc.returncode, first + rest, stderr))
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "briefgen: interrupted"


def test_an_interrupted_build_keeps_what_it_finished(tmp_path: Path) -> None:
    """Ctrl-C in the middle of a build: exit 130, no traceback, no temporary files, and a manifest of the
    briefs already written, which the next build then skips."""
    root = make_project(tmp_path / "project", {f"b{n}.yaml": MEMO_TEXT for n in range(1, 7)})
    interrupt(*start_pdf_build(root, jobs=1))
    kept = manifest_ids(root / "build")
    assert kept[:1] == ["b1"] and len(kept) < 6
    assert sorted(path.stem for path in (root / "build").glob("*.pdf")) == kept
    assert [path.name for path in (root / "build").iterdir() if path.name.startswith(".")] == []

    again = run_briefgen("build", "--format", "pdf", "--jobs", "1", "--quiet", cwd=root)
    assert summary(again) == (6 - len(kept), len(kept), 0, "build/manifest.json")


def test_an_interrupted_build_ends_its_workers_and_their_files(tmp_path: Path) -> None:
    """Ctrl-C with workers: they are ended rather than waited for, leave no process and no temporary file,
    and what was finished is in the manifest."""
    root = make_project(tmp_path / "project", {f"b{n:02}.yaml": MEMO_TEXT for n in range(1, 13)})
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc, first = start_pdf_build(root, jobs=2, TMPDIR=str(scratch))
    assert len(processes_in(root)) >= 3  # the build, its two workers (and multiprocessing's resource tracker)
    interrupt(proc, first)
    assert processes_in(root) == []
    assert sorted(scratch.iterdir()) == []
    kept = manifest_ids(root / "build")
    assert 1 <= len(kept) < 12
    assert sorted(path.stem for path in (root / "build").glob("*.pdf")) == sorted(kept)


def test_sigterm_stops_a_build_as_ctrl_c_does(tmp_path: Path) -> None:
    """SIGTERM to the build alone (as `timeout` sends it): exit 143, its workers ended, no temporary folder
    left, and the briefs it finished in the manifest."""
    root = make_project(tmp_path / "project", {f"b{n:02}.yaml": MEMO_TEXT for n in range(1, 13)})
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc, first = start_pdf_build(root, jobs=2, TMPDIR=str(scratch))
    proc.send_signal(signal.SIGTERM)
    rest, stderr = ended(proc, "SIGTERM")
    assert_no_traceback(subprocess.CompletedProcess(proc.args, proc.returncode, first + rest, stderr))
    assert proc.returncode == 143, stderr
    assert stderr.strip().splitlines()[-1] == "briefgen: terminated"
    assert processes_in(root) == []
    assert sorted(scratch.iterdir()) == []
    kept = manifest_ids(root / "build")
    assert 1 <= len(kept) < 12
    assert sorted(path.stem for path in (root / "build").glob("*.pdf")) == sorted(kept)


def on_a_terminal_of_its_own() -> None:
    """In the child, in the session start_new_session made for it: take the pseudo-terminal on its standard input
    as its controlling terminal, so that closing that terminal hangs up on it, as closing a terminal window
    or losing an SSH connection hangs up on what runs there."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_a_terminal_that_hangs_up_stops_a_build_as_ctrl_c_does(tmp_path: Path) -> None:
    """The build's terminal closes (SIGHUP to it and its workers): exit 129 (128 + SIGHUP), its workers ended,
    no temporary folder left, and the briefs it finished in the manifest. Its last words to the terminal
    cannot be written, and must not turn the hang-up into a failure of another kind."""
    root = make_project(tmp_path / "project", {f"b{n:02}.yaml": MEMO_TEXT for n in range(1, 13)})
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "build", "--format", "pdf", "--jobs", "2"],
        cwd=root,
        env=child_env(TMPDIR=str(scratch), TERM="xterm"),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        preexec_fn=on_a_terminal_of_its_own,
    )
    os.close(terminal)
    shown = bytearray()
    try:
        while not list((root / "build").glob("b*.pdf")):  # read what it shows, so that it never waits to write
            if select.select([controller], [], [], 60)[0]:
                shown += os.read(controller, 65536)
            assert proc.poll() is None, f"the build ended before a brief was built: {bytes(shown)!r}"
        assert len(processes_in(root)) >= 3  # the build, its two workers (and multiprocessing's resource tracker)
    finally:
        os.close(controller)  # the hang-up
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("the build did not end within 60 s of the hang-up") from None
    assert proc.returncode == 128 + signal.SIGHUP
    assert processes_in(root) == []
    assert sorted(scratch.iterdir()) == []
    kept = manifest_ids(root / "build")
    assert 1 <= len(kept) < 12
    assert sorted(path.stem for path in (root / "build").glob("*.pdf")) == sorted(kept)


def test_the_workers_end_with_a_build_killed_outright(tmp_path: Path) -> None:
    """A build killed with SIGKILL (as the out-of-memory killer or `kill -9` kill it), which can clean up
    nothing: its workers end with it, instead of living on with their memory and the build's output open."""
    root = make_project(tmp_path / "project", {f"b{n:02}.yaml": MEMO_TEXT for n in range(1, 13)})
    scratch = tmp_path / "tmp"  # where the workers' folder stays: a build killed so cannot remove it
    scratch.mkdir()
    proc, _ = start_pdf_build(root, jobs=2, TMPDIR=str(scratch))
    assert len(processes_in(root)) >= 3  # the build, its two workers (and multiprocessing's resource tracker)
    proc.kill()
    ended(proc, "SIGKILL")  # the output closes once nothing of the build holds it
    assert proc.returncode == -signal.SIGKILL
    assert processes_in(root) == []
    assert [path.name.startswith("briefgen-workers-") for path in scratch.iterdir()] == [True]  # its folder

    again = run_briefgen(
        "build", "--format", "pdf", "--jobs", "2", "--quiet", cwd=root, env=child_env(TMPDIR=str(scratch))
    )
    assert again.returncode == 0, again.stderr
    assert sorted(scratch.iterdir()) == []  # the next build removed what the killed one left


def test_a_build_removes_only_the_workers_folders_no_running_command_holds(tmp_path: Path) -> None:
    """A workers' folder that nothing holds goes (its command was killed); one held by a running command stays,
    and so does anything of the name that is not a folder (a file, a link to a folder elsewhere)."""
    root = make_project(tmp_path / "project", {"a.yaml": MEMO_TEXT, "b.yaml": MEMO_TEXT})
    scratch = tmp_path / "tmp"
    (scratch / "briefgen-workers-stale" / "fonts").mkdir(parents=True)
    (scratch / "briefgen-workers-stale" / "fonts" / "serif.ttf").write_bytes(b"font")
    (scratch / "briefgen-workers-held").mkdir()
    (scratch / "briefgen-workers-file").write_text("a file", encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "kept.txt").write_text("not the build's", encoding="utf-8")
    (scratch / "briefgen-workers-link").symlink_to(tmp_path / "elsewhere")
    with folder_lock(scratch / "briefgen-workers-held"):
        proc = run_briefgen(
            "build", "--format", "pdf", "--jobs", "2", "--quiet", cwd=root, env=child_env(TMPDIR=str(scratch))
        )
    assert proc.returncode == 0, proc.stderr
    left = ["briefgen-workers-file", "briefgen-workers-held", "briefgen-workers-link"]
    assert sorted(path.name for path in scratch.iterdir()) == left
    assert (tmp_path / "elsewhere" / "kept.txt").is_file()


def test_more_briefs_than_the_workers_render_before_they_are_replaced(tmp_path: Path) -> None:
    """A build of more than RENDERS_PER_WORKER x jobs briefs finishes: the workers are replaced and the build
    goes on (with Python's own max_tasks_per_child it stopped for good at exactly 200 outputs)."""
    count = RENDERS_PER_WORKER * 2 + 30
    root = make_project(tmp_path / "project", {f"b{n:03}.yaml": MEMO_TEXT for n in range(count)})
    proc = run_briefgen("build", "--format", "html", "--jobs", "2", "--quiet", cwd=root)
    assert_no_traceback(proc)
    assert summary(proc) == (count, 0, 0, "build/manifest.json")
    assert len(manifest_ids(root / "build")) == len(list((root / "build").glob("b*.html"))) == count


def test_a_repeated_error_names_the_brief_it_was_shown_for(tmp_path: Path) -> None:
    """Two briefs stopped by one broken partial, with a broken source between them: the second's line points
    back to the first brief by name, not to whatever error happens to be printed just above it."""
    sources = {
        "a.yaml": SAMPLE_TEXT,
        "b.yaml": SAMPLE_TEXT.replace("  series: Commentary", "  series: [", 1),
        "c.yaml": SAMPLE_TEXT,
    }
    root = make_project(tmp_path / "project", sources)
    (root / "templates" / "partials").mkdir(parents=True)
    (root / "templates" / "partials" / "masthead.html.j2").write_text("{{ nothing.here }}\n", encoding="utf-8")
    proc = run_briefgen("build", "--jobs", "1", "--format", "html", cwd=root)
    assert_no_traceback(proc)
    failed = [line for line in proc.stderr.splitlines() if line.startswith("failed  ")]
    assert failed == [
        "failed  sources/a.yaml",
        "failed  sources/b.yaml",
        "failed  sources/c.yaml (the same error as sources/a.yaml, above)",
    ]
