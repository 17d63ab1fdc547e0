"""Running work on a Dask distributed cluster (the optional extra `briefgen[distributed]`).

A build or a distribution given `--scheduler ADDRESS` hands its render tasks here instead of to local
worker processes (briefgen.batch.Executor). The address is checked before Dask's client is trusted
with it: nothing listening, something that is not a Dask scheduler, and a cluster without workers are
each a one-line error within CONNECT_SECONDS. A cluster that stops doing the work midway (its workers
gone for WORKERLESS_SECONDS, or its scheduler lost) raises ClusterLost, and the caller keeps what finished.
"""

import concurrent.futures
import contextlib
import functools
import gc
import logging
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from briefgen.errors import BriefgenError, Diagnostic, paths_shown_from

T = TypeVar("T")
R = TypeVar("R")

# How long a connection to a Dask scheduler may take, its handshake included.
CONNECT_SECONDS = 10
# How long a Dask cluster may be without workers midway before the work is given up: ample for a nanny to
# restart a worker that died.
WORKERLESS_SECONDS = 20
# While no work finishes, the cluster's results are looked for this often, and its workers counted this often.
DASK_POLL_SECONDS = 0.1
LOOK_AT_WORKERS_EVERY = 1.0


@contextlib.contextmanager
def connected(address: str) -> Iterator[Any]:
    """A client of the Dask scheduler at address, whose cluster has workers; BriefgenError when there is none."""
    with _client_of(address) as client:
        if not client.nthreads():
            message = "the Dask cluster has no workers; start some (dask worker ADDRESS) and run again"
            raise BriefgenError([Diagnostic(address, message)])
        yield client


def results(
    client: Any, address: str, work: Callable[[T], R], items: Sequence[T], killed: Callable[[T, int], R]
) -> Iterator[R]:
    """work(item) for every item on the client's cluster, as each finishes; ClusterLost when the cluster stops
    doing the work midway. Work's messages name paths as they are seen from this working directory.

    An item whose workers die on it as often as the scheduler allows (its `allowed-failures`, 3 by default)
    comes back as killed(item, the number of workers that died on it), and the rest go on.
    """
    from distributed import KilledWorker, as_completed

    futures = client.map(functools.partial(_showing_paths_from, Path.cwd(), work), items, pure=False)
    item_of = {future.key: item for future, item in zip(futures, items, strict=True)}
    finished, watch = as_completed(futures), _ClusterWatch(client, address, len(futures))
    while not finished.is_empty():
        batch = finished.next_batch(block=False)
        for future in batch:
            try:
                yield watch.result(future)
            except KilledWorker as exc:
                watch.done += 1
                yield killed(item_of[future.key], exc.allowed_failures + 1)
        if not batch:
            time.sleep(DASK_POLL_SECONDS)
            watch.look_at_workers()


class _ClusterWatch:
    """Whether a Dask cluster still does the work: ClusterLost once it has had no workers for WORKERLESS_SECONDS
    (its scheduler keeps the work waiting for workers for ever), or its scheduler is gone, saying how many of
    the tasks were not done."""

    def __init__(self, client: Any, address: str, tasks: int) -> None:
        self.client, self.address, self.tasks, self.done = client, address, tasks, 0
        self.workerless_since: float | None = None
        self.next_look = time.monotonic() + LOOK_AT_WORKERS_EVERY

    def result(self, future: Any) -> Any:
        """A finished future's result. It is waited for a little at a time: a result lost with the worker that
        held it is computed again, and waiting for that is waiting for a worker."""
        while True:
            if future.status == "cancelled":  # the connection to the scheduler was lost, and not regained
                raise self._lost("lost the connection to the Dask scheduler")
            try:
                result = future.result(timeout=LOOK_AT_WORKERS_EVERY)
            except (TimeoutError, OSError, concurrent.futures.CancelledError):
                if future.status == "error":  # the work's own exception, a bug: shown as if raised here
                    raise
                self.look_at_workers()
                continue
            self.done += 1
            return result

    def look_at_workers(self) -> None:
        """Count the cluster's workers, at most every LOOK_AT_WORKERS_EVERY; ClusterLost when there have been
        none for WORKERLESS_SECONDS."""
        now = time.monotonic()
        if now < self.next_look:
            return
        self.next_look = now + LOOK_AT_WORKERS_EVERY
        self.workerless_since = None if _has_workers(self.client) else self.workerless_since or now
        if self.workerless_since is not None and now - self.workerless_since >= WORKERLESS_SECONDS:
            raise self._lost(f"the Dask cluster has had no workers for {WORKERLESS_SECONDS} s")

    def _lost(self, why: str) -> "ClusterLost":
        return ClusterLost(self.address, f"{why}; {self.tasks - self.done} of {self.tasks} tasks not done")


class ClusterLost(BriefgenError):
    """The Dask cluster stopped doing the work midway (its workers or its scheduler gone): what finished is
    kept, as on an interrupt."""

    def __init__(self, address: str, message: str) -> None:
        super().__init__([Diagnostic(address, message)])


@contextlib.contextmanager
def _client_of(address: str) -> Iterator[Any]:
    """A client of the Dask scheduler at address; BriefgenError, within CONNECT_SECONDS, when none answers there.

    Dask's client bounds its connection but not the handshake after it: a peer that is not a Dask scheduler can
    keep it waiting for ever, or send it a length it cannot allocate. The address is first asked, within the
    same bound, whether a Dask scheduler answers there at all.
    """
    try:
        from distributed import Client
    except ImportError:
        message = "--scheduler needs Dask: pip install 'briefgen[distributed]'"
        raise BriefgenError([Diagnostic(address, message)]) from None
    deadline = time.monotonic() + CONNECT_SECONDS
    _check_listening(address)
    answered_by = _asked_who_answers(address, deadline - time.monotonic())
    if answered_by != "Scheduler":
        message = "no Dask scheduler answered there"
        if answered_by is None:
            message += "; something else listens on that port (a scheduler listens on 8786 unless started otherwise)"
        else:
            message += f"; a Dask {answered_by.lower()} did: give its scheduler's address"
        raise BriefgenError([Diagnostic(address, message)])
    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        raise BriefgenError([Diagnostic(address, f"cannot reach the Dask scheduler: {exc}")]) from None
    # Dask's account of what its closing interrupts (a reconnection to a lost scheduler, the fetch of a result
    # lost with its worker) is kept off the screen: the run reports what went wrong.
    quieted = [logging.getLogger(name) for name in ("distributed.client", "asyncio", "tornado.application")]
    levels = [log.level for log in quieted]
    try:
        yield client
    finally:
        for log in quieted:
            log.setLevel(logging.CRITICAL)
        try:
            client.close()
            gc.collect()  # the interrupted tasks' exceptions are logged as they go
        finally:
            for log, level in zip(quieted, levels, strict=True):
                log.setLevel(level)


def _has_workers(client: Any) -> bool:
    """Whether the client's cluster has a worker; assumed so while its scheduler cannot be asked (a lost
    scheduler cancels the work, which says so)."""
    try:
        return bool(client.nthreads())
    except OSError:
        return True


def _check_listening(address: str) -> None:
    """BriefgenError, at once where the system can tell, when nothing accepts a connection at address."""
    from distributed.comm.addressing import parse_address, parse_host_port

    host, port = parse_host_port(parse_address(address)[1])
    try:
        socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
    except ConnectionRefusedError:
        reason = "the connection was refused: nothing listens on that port"
    except socket.gaierror:
        reason = f"no host is known by the name {host!r}"
    except TimeoutError:
        reason = f"no answer within {CONNECT_SECONDS} s"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    else:
        return
    raise BriefgenError([Diagnostic(address, f"cannot reach the Dask scheduler: {reason}")])


def _asked_who_answers(address: str, seconds: float) -> str | None:
    """What kind of Dask server answers at address ('Scheduler', 'Worker', 'Nanny'), asked within seconds;
    None when what answers is not Dask, or does not answer in time."""
    import asyncio  # only a Dask scheduler's address is asked this way: a build without one never loads it

    from distributed.comm import connect

    seconds = max(seconds, 0.1)

    async def ask() -> object:
        comm = await connect(address, timeout=seconds)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    try:
        identity = asyncio.run(asyncio.wait_for(ask(), seconds))
    except Exception:  # anything a foreign peer's bytes make of Dask's protocol, a huge length included
        return None
    kind = identity.get("type") if isinstance(identity, dict) else None
    return kind if isinstance(kind, str) else None


def _showing_paths_from(folder: Path, work: Callable[[T], R], item: T) -> R:
    """work(item) on a cluster's worker, its temporary files in the worker's own directory, its messages naming
    paths as they are seen from folder (the user's working directory), as a local worker names them."""
    _temporary_files_in_workers_directory()
    with paths_shown_from(folder):
        return work(item)


def _temporary_files_in_workers_directory() -> None:
    """Have this Dask worker make its temporary files (WeasyPrint's copies of the fonts, about 3 MB) in its
    local directory, as a local worker makes them in its command's folder. Dask removes that directory when
    the worker ends, and, when the worker was killed (out of memory, a CPU-time limit), as the next worker
    starts on the machine: in the system's temporary folder, the fonts would stay for good.
    """
    from distributed import get_worker

    try:
        directory = get_worker().local_directory
    except ValueError:  # not on a worker: a task run by the client itself
        return
    tempfile.tempdir = directory
