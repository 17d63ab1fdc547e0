"""Rendering many briefs: in this process, or in long-lived warm worker processes.

Workers are spawned (never forked), import WeasyPrint and set up their font
configuration once, then render brief after brief, on Linux in copies of the
worker (briefgen.forked), a few briefs each, which never run the garbage collector
and keep the worker's memory as it was after its first brief; after a bounded number of
renders per worker a fresh pool takes over, so that memory stays flat. The same
tasks can run on a Dask cluster instead (briefgen.cluster). A brief that fails comes back as its diagnostics and
never stops the others; so does one whose worker process dies twice (a worker that dies takes its
pool with it, and what the pool held goes to a fresh one). Other work that prints PDFs (distribute's
stamp sheets) runs in the same workers, through the same Executor.
"""

import collections
import contextlib
import ctypes.util
import functools
import gc
import multiprocessing
import multiprocessing.util
import os
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from briefgen import cluster, forked, lifeline
from briefgen.errors import BriefgenError, Diagnostic, Severity, display_path, system_refusal
from briefgen.pipeline import Format, Project, RenderedBrief, render_brief
from briefgen.scratch import workers_folder

# Memory is flat across renders with the built-in styles, and a worker rendering in copies keeps none of a
# render's memory; the bound is for styles that make WeasyPrint leak (font features set as properties: about
# 370 KiB a render) where a worker renders itself, and costs a worker start-up (about 1.5 s of CPU: imports,
# fonts, templates) per this many renders.
RENDERS_PER_WORKER = 100
# Work handed to the pool ahead of its results, per worker: enough that no worker waits for its next task,
# few enough that an interrupt has little to cancel and a pool being replaced has little left to finish.
QUEUED_PER_WORKER = 2
# Times a worker may die on one piece of work before the work is given up: once may be bad luck (the
# out-of-memory killer picks the largest process, whatever it is doing); twice is the work.
DEATHS_ALLOWED = 1
# Work that prints nothing (HTML) takes about 40 ms a brief, and a worker for it about 0.6 s of CPU to start
# (imports, templates): a worker is started only for at least this many such items, else they run in this process.
UNPRINTED_PER_WORKER = 30
MARKER_PREFIX = "working-on-"  # a worker's note of the item it is on, in the workers' folder

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class RenderTask:
    source: Path
    project: Project
    formats: tuple[Format, ...]
    edition: str | None = None


@dataclass(frozen=True)
class TaskResult:
    """A rendered brief, or the errors that stopped it."""

    task: RenderTask
    rendered: RenderedBrief | None
    errors: tuple[Diagnostic, ...] = field(default=())


def default_jobs() -> int:
    """As many workers as this process may use cores."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def subsetter_missing() -> bool:
    """Whether HarfBuzz's font subsetter is absent: WeasyPrint then falls back to one about four times slower."""
    return ctypes.util.find_library("harfbuzz-subset") is None


def run(task: RenderTask) -> TaskResult:
    """Render one task, turning a user mistake, or a file the system would not let it write (a full disk
    for WeasyPrint's font files, say), into a result rather than an exception."""
    try:
        return TaskResult(task, render_brief(task.source, task.project, task.formats, task.edition))
    except BriefgenError as exc:
        return TaskResult(task, None, exc.diagnostics)
    except OSError as exc:
        message = f"could not be rendered: the system refused a file: {system_refusal(exc)}"
        return TaskResult(task, None, (Diagnostic(display_path(task.source), message),))


_Warmth = tuple[tuple[str, ...], str] | None  # the themes and language a render filled caches for (None: it failed)


@dataclass
class _Copies:
    """How this process renders in copies of itself (briefgen.forked), as a printing worker does.

    A copy's additions to the caches that renders share (stylesheets parsed, templates compiled) go with it.
    So the worker renders its first brief itself; and when a copy had to fill the caches, for a brief in a
    theme and language no brief rendered here had, the worker renders that brief again itself, once, so that
    the copies after it find them filled.
    """

    wanted: bool = False
    warmed: set[_Warmth] = field(default_factory=set)  # by the renders made here
    copies: forked.Copies = field(default_factory=forked.Copies)


_copies = _Copies()


def run_many(task: RenderTask) -> TaskResult:
    """Render one task in one of our processes (a build worker, or the build's own with one job): in a
    copy of a warm printing worker, else here with the garbage collector paused while it renders."""
    if _copies.wanted and _copies.warmed and forked.available():
        result, missed = _copies.copies.run(functools.partial(_run_counting_misses, task))
        if not missed or _warmed_by(result) in _copies.warmed:
            return result
    with collector_paused():
        result = run(task)
    if _copies.wanted:
        _copies.warmed.add(_warmed_by(result))
    return result


def close_copies() -> None:
    """End the copy this process renders in, if it has one, and wait for it: its CPU time and peak memory
    then count as this process's children's."""
    _copies.copies.close()


def _warmed_by(result: TaskResult) -> _Warmth:
    """What a render fills the caches for: its themes (stylesheets, templates) and language (labels)."""
    if result.rendered is None:
        return None
    return result.rendered.themes, result.rendered.summary.language


def _run_counting_misses(task: RenderTask) -> tuple[TaskResult, bool]:
    """The task's result, and whether rendering it had to fill the caches renders share."""
    before = _cache_misses()
    return run(task), _cache_misses() != before


def _cache_misses() -> int:
    from briefgen import print_pdf, render_html

    return print_pdf.cache_misses() + render_html.cache_misses()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a render, then run once on its youngest generation,
    which holds exactly what the render allocated. Run during a render, its passes scan the growing
    document again and again, and nothing of it can be freed before the render ends (bench/collector.py).
    The collector is left as it was found, on or off."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
        gc.collect(0)


def render_all(tasks: Iterable[RenderTask], executor: "Executor") -> Iterator[TaskResult]:
    """Render every task with the executor, yielding results as they finish."""
    work = run if executor.scheduler is not None else run_many  # a shared cluster's collector is left alone
    tasks = list(tasks)
    printing = any(Format.PDF in task.formats for task in tasks)
    yield from executor.map(work, tasks, describe=_rendering, lost=_not_rendered, printing=printing)


def _rendering(task: RenderTask) -> str:
    edition = f" ({task.edition} edition)" if task.edition else ""
    return f"rendering {display_path(task.source)}{edition}"


def _not_rendered(task: RenderTask, error: Diagnostic) -> TaskResult:
    return TaskResult(task, None, (error,))


@dataclass(frozen=True)
class _Given(Generic[T]):
    """A piece of work given to a pool: its number in the batch, and the pool."""

    number: int
    item: T
    pool: ProcessPoolExecutor


class Executor:
    """Where work runs: on a Dask cluster when given a scheduler's address; else in up to `jobs` spawned,
    warm worker processes (WeasyPrint imported, fonts set up), never more than there is work for; else,
    with one job, in this process.

    One executor serves a whole command: the workers or the cluster connection it opens for one batch of
    work serve the next (distribute's renders, then its stamp sheets), and go when it is closed. A batch of
    one item, before any worker has started, runs in this process.

    The workers ignore Ctrl-C and leave their temporary files in a folder of this process's. This process
    decides: on an interrupt, or when the caller stops asking for results, it cancels what is queued and
    ends the workers at once, instead of waiting for the work they were given, and the folder goes too.
    on_warning is told of a worker that died, and of more workers started than there are cores.
    """

    def __init__(
        self, jobs: int = 1, scheduler: str | None = None, on_warning: Callable[[Diagnostic], None] = lambda _: None
    ) -> None:
        self.jobs = jobs
        self.scheduler = scheduler
        self.on_warning = on_warning
        self._opened = contextlib.ExitStack()
        self._scratch: str | None = None
        self._pools: list[ProcessPoolExecutor] = []  # the current one last; earlier ones finish what they have
        self._size = 0  # the current pool's number of workers
        self._given = 0  # work given to the current pool
        self._broken: set[ProcessPoolExecutor] = set()  # pools a dead worker took down
        self._earlier_children: set[multiprocessing.process.BaseProcess] = set()
        self._children: dict[multiprocessing.process.BaseProcess, ProcessPoolExecutor] = {}  # workers, by pool
        self._told_of_cores = False
        self._client: Any = None

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:  # Ctrl-C or an error in the caller: what the workers would still do is unwanted
            self._stop_workers()
        self._opened.close()

    def map(
        self,
        work: Callable[[T], R],
        items: Sequence[T],
        *,
        describe: Callable[[T], str] = str,
        lost: Callable[[T, Diagnostic], R] | None = None,
        printing: bool = True,
    ) -> Iterator[R]:
        """work(item) for every item, yielding results as they finish. On workers or a cluster, work must be
        a module-level function and items picklable; on a cluster, the workers must have briefgen installed
        and see the project (and any output folder the work writes to) at the same paths.

        A worker that dies (killed by the out-of-memory killer, say, or crashing in a library) takes its pool
        with it: what the others finished is kept, and what the pool still held goes to a fresh pool, the
        item the dead worker was on too, with a warning that names it (describe(item) says what was being
        done: "rendering sources/x.yaml"). When a worker dies on the same item again, that item comes back
        as lost(item, error), or, without lost, the work stops with the error (BriefgenError).

        Workers import WeasyPrint as they start only for printing work; work that prints nothing gets one
        worker per UNPRINTED_PER_WORKER items at most, and runs in this process when that is one.
        """
        jobs = self.jobs if printing else min(self.jobs, len(items) // UNPRINTED_PER_WORKER)
        if self.scheduler is not None:
            yield from self._on_dask(work, items, describe, lost)
        elif jobs <= 1 or (len(items) <= 1 and not self._pools):
            yield from map(work, items)
        else:
            yield from self._in_workers(work, items, jobs, describe, lost, printing)

    def _in_workers(
        self,
        work: Callable[[T], R],
        items: Sequence[T],
        jobs: int,
        describe: Callable[[T], str],
        lost: Callable[[T, Diagnostic], R] | None,
        printing: bool,
    ) -> Iterator[R]:
        """Hand the work to up to `jobs` workers a little ahead of its results, so the pool can be replaced in
        between."""
        waiting = collections.deque(enumerate(items))
        running: dict[Future[R], _Given[T]] = {}
        deaths: collections.Counter[int] = collections.Counter()  # workers that died on each item, by number
        try:
            while waiting or running:
                while waiting and len(running) < jobs * QUEUED_PER_WORKER:
                    number, item = waiting[0]
                    pool = self._workers(min(jobs, len(waiting) + len(running)), printing)
                    try:
                        future = pool.submit(_naming_its_item, work, number, item)
                    except BrokenProcessPool:  # a worker died: the work the pool held comes back below
                        self._broken.add(pool)
                        continue
                    self._children.update((child, pool) for child in self._workers_started() - set(self._children))
                    waiting.popleft()
                    running[future] = _Given(number, item, pool)
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    if future not in running:  # came back with the rest of its broken pool
                        continue
                    if isinstance(future.exception(), BrokenProcessPool):
                        yield from self._after_a_death(running[future].pool, running, waiting, deaths, describe, lost)
                    else:
                        del running[future]
                        yield future.result()
        except BaseException:  # Ctrl-C, or the caller closing this generator early
            self._stop_workers()
            raise

    def _after_a_death(
        self,
        pool: ProcessPoolExecutor,
        running: dict[Future[R], _Given[T]],
        waiting: collections.deque[tuple[int, T]],
        deaths: collections.Counter[int],
        describe: Callable[[T], str],
        lost: Callable[[T, Diagnostic], R] | None,
    ) -> Iterator[R]:
        """A worker of pool died, and the pool with it: yield what the pool finished, count a death against
        the items the dead worker was on (against all it held, when that cannot be told), put the unfinished
        back at the head of the queue, for a fresh pool, and give up the items that have had a death too many."""
        self._broken.add(pool)
        how, dead_on = self._how_a_worker_died(pool)
        held = sorted(((given, future) for future, given in running.items() if given.pool is pool), key=_number)
        for _, future in held:
            del running[future]
        unfinished = [given for given, future in held if isinstance(future.exception(), BrokenProcessPool)]
        numbers = {given.number for given in unfinished}
        suspects = dead_on & numbers or numbers
        deaths.update(suspects)
        again = [given for given in unfinished if deaths[given.number] <= DEATHS_ALLOWED]
        if dead_on & numbers:
            for given in again:
                if given.number in suspects:
                    self._warn(f"a worker process died ({how}) while {describe(given.item)}; trying it again")
        elif again:
            self._warn(f"a worker process died ({how}); trying again the {len(again)} pieces of work its pool held")
        waiting.extendleft((given.number, given.item) for given in reversed(again))
        for given, future in held:
            if given.number not in numbers:
                yield future.result()
            elif deaths[given.number] > DEATHS_ALLOWED:
                message = f"a worker process died ({how}) while {describe(given.item)}, again; not tried a third time"
                if lost is None:
                    raise BriefgenError([Diagnostic("briefgen", message)])
                yield lost(given.item, Diagnostic("briefgen", message))

    def _how_a_worker_died(self, pool: ProcessPoolExecutor) -> tuple[str, set[int]]:
        """How the worker that took pool down ended, and the numbers of the items the dead were working on.

        The pool ends its other workers with SIGTERM (the workers of a pool being replaced may have exited, 0,
        with nothing left to do); its shutdown waits for them, so that every worker's exit code is known.
        Should they all have ended so, which one died first cannot be told.
        """
        pool.shutdown(wait=True)
        workers = [child for child, owner in self._children.items() if owner is pool]
        dead = (
            [child for child in workers if child.exitcode not in (0, -signal.SIGTERM)]
            or [child for child in workers if child.exitcode == -signal.SIGTERM]
            or workers
        )
        dead_on = {number for child in dead if (number := self._item_of(child)) is not None}
        for child in workers:
            del self._children[child]
            self._marker(child.pid).unlink(missing_ok=True)
        return _ending(dead[0].exitcode if dead else None), dead_on

    def _item_of(self, worker: multiprocessing.process.BaseProcess) -> int | None:
        """The number of the item a worker was on when it ended, as it noted it; None if it was on none."""
        try:
            return int(self._marker(worker.pid).read_text(encoding="ascii"))
        except (OSError, ValueError):
            return None

    def _marker(self, pid: int | None) -> Path:
        return Path(self._scratch or ".", f"{MARKER_PREFIX}{pid}")

    def _warn(self, message: str) -> None:
        self.on_warning(Diagnostic("briefgen", message, severity=Severity.WARNING))

    def _workers_started(self) -> set[multiprocessing.process.BaseProcess]:
        return set(multiprocessing.active_children()) - self._earlier_children

    def _stop_workers(self) -> None:
        """Cancel the work queued and end the workers at once, instead of waiting for the work they were given."""
        for pool in self._pools:
            pool.shutdown(wait=False, cancel_futures=True)
        for child in self._workers_started():
            child.terminate()

    def _workers(self, wanted: int, printing: bool) -> ProcessPoolExecutor:
        """The pool to give the next piece of work to, with up to `wanted` workers (spawned as work needs
        them). A fresh pool takes over from one that is broken, has fewer workers than wanted, or has been
        given RENDERS_PER_WORKER pieces of work per worker; the old one's workers exit when they have
        finished theirs.

        (Python's own max_tasks_per_child is not used: on Python 3.11-3.13 a pool whose workers retire with
        work still queued can hang for good, CPython issue 115634.)
        """
        if (
            not self._pools
            or self._pools[-1] in self._broken
            or self._size < wanted
            or self._given >= RENDERS_PER_WORKER * self._size
        ):
            self._start_pool(wanted, printing)
        self._given += 1
        return self._pools[-1]

    def _start_pool(self, size: int, printing: bool) -> None:
        if self._pools:
            self._pools[-1].shutdown(wait=False)
        if self._scratch is None:
            self._scratch = self._opened.enter_context(workers_folder())
            self._earlier_children = set(multiprocessing.active_children())
        cores = default_jobs()
        if size > cores and not self._told_of_cores:
            self._told_of_cores = True
            self._warn(
                f"--jobs {self.jobs}: starting {size} worker processes on {cores} core{'' if cores == 1 else 's'}; "
                "more workers than cores make the work slower, not faster, and each takes memory (about 150 MB "
                "printing PDFs)"
            )
        pool = ProcessPoolExecutor(
            max_workers=size,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_warm_up,
            initargs=(self._scratch, printing),
        )
        self._opened.callback(pool.shutdown, wait=True)  # before the scratch folder goes
        self._pools.append(pool)
        self._size, self._given = size, 0

    def _on_dask(
        self,
        work: Callable[[T], R],
        items: Sequence[T],
        describe: Callable[[T], str],
        lost: Callable[[T, Diagnostic], R] | None,
    ) -> Iterator[R]:
        """work(item) for every item on the cluster, as each finishes (see briefgen.cluster). An item the
        cluster's workers die on as often as its scheduler allows comes back as lost(item, error), or, without
        lost, the work stops with the error."""
        if self._client is None:
            self._client = self._opened.enter_context(cluster.connected(self.scheduler or ""))

        def killed(item: T, deaths: int) -> R:
            times = "once" if deaths == 1 else f"{deaths} times"
            message = f"a Dask worker died while {describe(item)}, {times} in all, as often as the scheduler allows"
            message += "; not tried again"
            if lost is None:
                raise BriefgenError([Diagnostic("briefgen", message)])
            return lost(item, Diagnostic("briefgen", message))

        yield from cluster.results(self._client, self.scheduler or "", work, items, killed)


def _naming_its_item(work: Callable[[T], R], number: int, item: T) -> R:
    """work(item) in a worker, which notes in its folder, while it works, the number of the item it is on:
    should the worker die, the parent can tell on what."""
    marker = Path(tempfile.gettempdir(), f"{MARKER_PREFIX}{os.getpid()}")
    marker.write_text(str(number), encoding="ascii")
    try:
        return work(item)
    finally:
        marker.unlink(missing_ok=True)


def _number(given_and_future: tuple[_Given[T], Future[Any]]) -> int:
    return given_and_future[0].number


def _ending(exitcode: int | None) -> str:
    """How a process ended, from its exit code, in a few words."""
    if exitcode is None:
        return "cause unknown"
    if exitcode >= 0:
        return f"exit status {exitcode}"
    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        name = f"signal {-exitcode}"
    guess = "; out of memory?" if -exitcode == signal.SIGKILL else ""
    return f"killed by {name}{guess}"


def _warm_up(scratch: str, printing: bool) -> None:
    """Set up a worker as it starts: ended with the command that started it, Ctrl-C and a terminal's hang-up
    left to that command, temporary files in its folder, then ready."""
    if (parent := multiprocessing.parent_process()) is not None and parent.pid is not None:
        lifeline.end_with_parent(parent.pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    tempfile.tempdir = scratch
    prepare_worker(printing)
    multiprocessing.util.Finalize(None, close_copies, exitpriority=1)  # as the worker ends


def prepare_worker(printing: bool = True) -> None:
    """What a worker does before its first brief: for printing work, import WeasyPrint and set up the fonts,
    once, and render each brief after the first in a copy of itself (run_many); then set aside what exists,
    which lasts as long as the worker, from the garbage collector's full passes."""
    if printing:
        from briefgen import print_pdf

        print_pdf.warm_up()
        _copies.wanted = True
    gc.collect()
    gc.freeze()
