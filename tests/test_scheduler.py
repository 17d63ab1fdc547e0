"""--scheduler: an address that is not a Dask scheduler's, and a cluster that has or loses no workers.

Each case runs the command line in a temporary project and must end with one clear error line, never a
traceback or a hang; a run the cluster stops midway keeps what it finished, as an interrupted one does.
"""

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import (
    MEMO_TEXT,
    SAMPLE_TEXT,
    assert_no_traceback,
    child_env,
    long_brief,
    make_project,
    replace_once,
    run_briefgen,
)

TITLE = "United on arms control, divided over itself: the CSTO after Astana"
DASK = Path(sys.executable).with_name("dask")


def project_of(root: Path, briefs: int) -> Path:
    """A project of `briefs` copies of the sample, each with its own title."""
    sources = {
        f"brief-{number:02}.yaml": replace_once(SAMPLE_TEXT, f'title: "{TITLE}"', f'title: "Brief {number}: {TITLE}"')
        for number in range(briefs)
    }
    return make_project(root, sources)


def the_error(proc: subprocess.CompletedProcess[str], address: str) -> str:
    """The one error line of a run refused for its scheduler, which names the address."""
    assert_no_traceback(proc)
    errors = [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith(f"{address}: error: "), proc.stderr
    return errors[0].removeprefix(f"{address}: error: ")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int) -> None:
    for _ in range(600):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing came to listen on port {port}")


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """`python -m http.server` on a free port, as Dask's dashboard (8787) or any web server answers."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(port)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()


@pytest.fixture
def garbage_server() -> Iterator[str]:
    """A TCP server that greets every connection with text, whose first bytes Dask reads as a frame length
    far beyond any memory."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                connection, _ = listener.accept()
                with connection:
                    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 10)
                    connection.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


@pytest.mark.parametrize("server", ["http_server", "garbage_server"])
def test_a_port_where_no_dask_scheduler_answers_is_a_clear_error(
    tmp_path: Path, server: str, request: pytest.FixtureRequest
) -> None:
    address = request.getfixturevalue(server)
    root = project_of(tmp_path / "project", 1)
    proc = run_briefgen("build", "--scheduler", address, "--format", "html", cwd=root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert the_error(proc, address).startswith("no Dask scheduler answered there; something else listens"), proc.stderr
    assert not (root / "build").exists()


def test_a_refused_connection_is_said_to_be_refused(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    root = project_of(tmp_path / "project", 1)
    proc = run_briefgen("build", "--scheduler", address, "--format", "html", cwd=root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "refused" in the_error(proc, address), proc.stderr
    assert not (root / "build").exists()


@pytest.mark.parametrize(
    ("address", "hint"),
    [
        ("tcp://127.0.0.1:99999", "; a port is a number from 1 to 65535"),
        ("127.0.0.1:0", "; a port is a number from 1 to 65535"),
        ("ws://127.0.0.1:8786", ""),
        ("tls://127.0.0.1:8786", ""),
        ("ucx://127.0.0.1:8786", ""),
    ],
)
def test_an_impossible_port_or_another_protocol_is_a_usage_error(tmp_path: Path, address: str, hint: str) -> None:
    root = project_of(tmp_path / "project", 1)
    proc = run_briefgen("build", "--scheduler", address, "--format", "html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    expected = f"tcp://HOST:PORT (tcp://127.0.0.1:8786, say), not {address!r}{hint}"
    assert proc.stderr.splitlines()[-1].endswith(expected), proc.stderr
    assert not (root / "build").exists()


def test_a_dask_workers_address_is_told_from_its_schedulers(tmp_path: Path, dask_scheduler: str) -> None:
    from distributed import Client

    with Client(dask_scheduler) as client:
        worker = next(iter(client.scheduler_info()["workers"]))
    root = project_of(tmp_path / "project", 1)
    proc = run_briefgen("build", "--scheduler", worker, "--format", "html", cwd=root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        the_error(proc, worker) == "no Dask scheduler answered there; a Dask worker did: give its scheduler's address"
    )
    assert not (root / "build").exists()


@pytest.fixture
def workerless_scheduler() -> Iterator[str]:
    """A Dask scheduler with no workers of its own."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=0, processes=True, dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize("command", ["build", "distribute"])
def test_a_cluster_without_workers_is_refused_at_once(tmp_path: Path, workerless_scheduler: str, command: str) -> None:
    root = project_of(tmp_path / "project", 1)
    (root / "r.csv").write_text("name,organisation,email\nAda Lovelace,Analytical Engines,ada@example.org\n")
    options = ["--format", "html"] if command == "build" else ["--recipients", "r.csv"]
    proc = run_briefgen(command, "--scheduler", workerless_scheduler, *options, "--out", "out", cwd=root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert the_error(proc, workerless_scheduler).startswith("the Dask cluster has no workers; start some"), proc.stderr
    assert not (root / "out").exists()


def start_dask(*args: str, cwd: Path, before=None, **env: str) -> subprocess.Popen[bytes]:
    """A `dask` command in a session of its own, so that it and the processes it starts can be killed together;
    before runs in the child before it starts, env adds to its environment."""
    return subprocess.Popen(
        [str(DASK), *args],
        cwd=cwd,
        env=child_env(**env),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=before,
    )


def start_scheduler(cwd: Path, **env: str) -> tuple[str, subprocess.Popen[bytes]]:
    """`dask scheduler` on a free local port, env added to its environment; its address, and it."""
    port = free_port()
    scheduler = start_dask(
        "scheduler",
        *("--host", "127.0.0.1", "--port", str(port), "--dashboard-address", "127.0.0.1:0"),
        cwd=cwd,
        **env,
    )
    return f"tcp://127.0.0.1:{port}", scheduler


def kill_all(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def wait_for_a_worker(scheduler: str) -> None:
    from distributed import Client

    with Client(scheduler, timeout=60) as client:
        client.wait_for_workers(1, timeout=300)


def start_build_killing(
    root: Path, scheduler: str, victim: subprocess.Popen[bytes]
) -> subprocess.CompletedProcess[str]:
    """Build the project's HTML on the cluster, killing the victim (and all it started) as the first output
    comes back, with most briefs still to render."""
    build = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "build", "--scheduler", scheduler, "--format", "html", "--out", "out"],
        cwd=root,
        env=child_env(PYTHONFAULTHANDLER="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not list((root / "out").glob("brief-*.html")) and build.poll() is None:
            time.sleep(0.05)
        kill_all(victim)
        stdout, stderr = build.communicate(timeout=300)
    except subprocess.TimeoutExpired:  # a hang: show where it waits (PYTHONFAULTHANDLER prints every thread's stack)
        build.send_signal(signal.SIGABRT)
        raise AssertionError(f"the build did not end:\n{build.communicate()[1]}") from None
    finally:
        if build.poll() is None:
            build.kill()
            build.communicate()
    return subprocess.CompletedProcess(build.args, build.returncode, stdout, stderr)


def assert_finished_briefs_kept(root: Path, briefs: int) -> None:
    """The manifest lists the briefs that came back, some but not all, and the next build skips exactly those."""
    listed = [entry["id"] for entry in json.loads((root / "out" / "manifest.json").read_text("utf-8"))["briefs"]]
    assert 0 < len(listed) < briefs, listed
    assert sorted(path.stem for path in (root / "out").glob("brief-*.html")) == sorted(listed)
    proc = run_briefgen("build", "--jobs", "1", "--format", "html", "--out", "out", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith(f"{briefs - len(listed)} built, {len(listed)} skipped,")


BRIEFS_KILLED_MIDWAY = 12


def test_a_cluster_whose_workers_all_die_ends_the_run_and_keeps_its_work(
    tmp_path: Path, workerless_scheduler: str
) -> None:
    root = project_of(tmp_path / "project", BRIEFS_KILLED_MIDWAY)
    worker = start_dask("worker", workerless_scheduler, "--nworkers", "1", "--nthreads", "1", cwd=tmp_path)
    try:
        wait_for_a_worker(workerless_scheduler)
        proc = start_build_killing(root, workerless_scheduler, worker)
    finally:
        kill_all(worker)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    message = the_error(proc, workerless_scheduler)
    assert message.startswith("the Dask cluster has had no workers for 20 s; "), proc.stderr
    assert message.endswith(f" of {BRIEFS_KILLED_MIDWAY} tasks not done"), proc.stderr
    assert_finished_briefs_kept(root, BRIEFS_KILLED_MIDWAY)


def test_a_scheduler_that_dies_midway_ends_the_run_and_keeps_its_work(tmp_path: Path) -> None:
    root = project_of(tmp_path / "project", BRIEFS_KILLED_MIDWAY)
    address, scheduler = start_scheduler(tmp_path)
    worker = start_dask("worker", address, "--nworkers", "1", "--nthreads", "1", cwd=tmp_path)
    try:
        wait_for_a_worker(address)
        proc = start_build_killing(root, address, scheduler)
    finally:
        kill_all(worker)
        kill_all(scheduler)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    message = the_error(proc, address)
    assert message.startswith("lost the connection to the Dask scheduler; "), proc.stderr
    assert_finished_briefs_kept(root, BRIEFS_KILLED_MIDWAY)


# Twice what a Dask worker was measured to need to start and print the memo (2.9 s, in a spell when the machine
# ran at half its best speed); the long brief needs minutes.
WORKER_CPU_SECONDS = 6


def with_worker_cpu_limit() -> None:
    """In `dask worker`, before it starts: a limit on each of its processes' CPU time (past it the kernel kills
    the process with SIGXCPU, and the nanny starts a new worker), and no core file."""
    resource.setrlimit(resource.RLIMIT_CPU, (WORKER_CPU_SECONDS, WORKER_CPU_SECONDS + 60))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def test_a_brief_its_dask_workers_die_on_fails_alone(tmp_path: Path) -> None:
    """A brief whose Dask worker dies each time it prints it: once the scheduler gives the task up (its
    allowed-failures, 1 here, so after two deaths), the brief fails with an error naming it, no traceback;
    the other brief is built and in the manifest, exit 1. The killed workers' temporary files (WeasyPrint's
    copies of the fonts) were made in their Dask directories, not left in the system's temporary folder."""
    root = make_project(tmp_path / "project", {"good.yaml": MEMO_TEXT, "long.yaml": long_brief()})
    address, scheduler = start_scheduler(tmp_path, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1")
    temporary = tmp_path / "worker-tmp"
    temporary.mkdir()
    worker = start_dask(
        "worker",
        *(address, "--nworkers", "1", "--nthreads", "1"),
        cwd=tmp_path,
        before=with_worker_cpu_limit,
        TMPDIR=str(temporary),
    )
    try:
        wait_for_a_worker(address)
        proc = run_briefgen("build", "--scheduler", address, "--format", "pdf", "--out", "out", cwd=root)
    finally:
        kill_all(worker)
        kill_all(scheduler)
    assert_no_traceback(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert errors == [
        "briefgen: error: a Dask worker died while rendering sources/long.yaml, 2 times in all, as often as the "
        "scheduler allows; not tried again"
    ], proc.stderr
    assert "failed  sources/long.yaml" in proc.stdout.splitlines() + proc.stderr.splitlines()
    assert proc.stdout.strip().splitlines()[-1] == "1 built, 0 skipped, 1 failed; manifest in out/manifest.json"
    listed = [entry["id"] for entry in json.loads((root / "out" / "manifest.json").read_text("utf-8"))["briefs"]]
    assert listed == ["good"]
    assert sorted(path.name for path in temporary.iterdir()) == ["dask-scratch-space"]
