"""Rendering many briefs: in this process, or in long-lived warm worker processes.

Workers are spawned (never forked), import WeasyPrint and set up their font
configuration once, then render brief after brief; each is replaced after a
bounded number of renders so that memory stays flat. The same tasks can run on
a Dask cluster instead. A brief that fails comes back as its diagnostics and
never stops the others. Other work that prints PDFs (distribute's stamp sheets)
runs in the same kind of workers through in_workers.
"""

import ctypes.util
import functools
import gc
import multiprocessing
import os
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from briefgen.errors import BriefgenError, Diagnostic
from briefgen.pipeline import Format, Project, RenderedBrief, render_brief

# Memory is flat across renders with the built-in styles; the bound is for styles that make WeasyPrint
# leak (font features set as properties: about 370 KiB a render), and costs a worker start-up (about
# 1.5 s of CPU: imports, fonts, templates) per this many renders.
RENDERS_PER_WORKER = 100

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
    """Render one task, turning a user mistake into a result rather than an exception."""
    try:
        return TaskResult(task, render_brief(task.source, task.project, task.formats, task.edition))
    except BriefgenError as exc:
        return TaskResult(task, None, exc.diagnostics)


def run_many(task: RenderTask) -> TaskResult:
    """Render one task in a process that renders many (a build worker, or a build with one job).

    After the process's first render, what lasts from it (modules, fonts, compiled templates, parsed
    stylesheets) is set aside from Python's cyclic garbage collector, whose full collections would
    otherwise scan it again and again: about 60 ms of every later render (bench/collector.py).
    """
    result = run(task)
    _freeze_after_first_render()
    return result


def _freeze_what_exists() -> None:
    """Move every live object out of the cyclic garbage collector's sight, collecting garbage first:
    a frozen garbage object would never be freed."""
    gc.collect()
    gc.freeze()


_freeze_after_first_render = functools.cache(_freeze_what_exists)


def render_all(tasks: Iterable[RenderTask], jobs: int, scheduler: str | None = None) -> Iterator[TaskResult]:
    """Render every task, yielding results as they finish.

    On a Dask cluster when a scheduler address is given; else in local worker processes, or in this
    process when there is one job or one task.
    """
    tasks = list(tasks)
    if scheduler is not None:
        yield from on_dask(run, tasks, scheduler)
        return
    if len(tasks) <= 1:
        yield from map(run, tasks)
        return
    if jobs <= 1:
        yield from map(run_many, tasks)
        return
    yield from in_workers(run_many, tasks, jobs)


def in_workers(work: Callable[[T], R], items: Sequence[T], jobs: int) -> Iterator[R]:
    """work(item) for every item in up to `jobs` spawned, warm worker processes (WeasyPrint imported, fonts
    set up), yielding results as they finish. work must be a module-level function, and items picklable.

    The workers ignore Ctrl-C and leave their temporary files in a folder of this process's. This process
    decides: on an interrupt, or when the caller stops asking for results, it cancels what is queued and
    ends the workers at once, instead of waiting for the work they were given, and the folder goes too.
    """
    earlier_children = set(multiprocessing.active_children())
    with tempfile.TemporaryDirectory(prefix="briefgen-workers-") as scratch:
        pool = ProcessPoolExecutor(
            max_workers=min(jobs, len(items)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_warm_up,
            initargs=(scratch,),
            max_tasks_per_child=RENDERS_PER_WORKER,
        )
        try:
            futures = [pool.submit(work, item) for item in items]
            for future in as_completed(futures):
                yield future.result()
        except BaseException:  # Ctrl-C, or the caller closing this generator early
            pool.shutdown(wait=False, cancel_futures=True)
            for child in set(multiprocessing.active_children()) - earlier_children:
                child.terminate()
            raise
        finally:
            pool.shutdown(wait=True)


def on_dask(work: Callable[[T], R], items: Sequence[T], scheduler: str) -> Iterator[R]:
    """work(item) for every item on a Dask distributed cluster (the optional extra briefgen[distributed]),
    yielding results as they finish.

    The cluster's workers must have briefgen installed and see the project (and any output folder the work
    writes to) at the same path.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        message = "--scheduler needs Dask: pip install 'briefgen[distributed]'"
        raise BriefgenError([Diagnostic(scheduler, message)]) from None
    try:
        client = Client(scheduler, timeout=10)
    except (OSError, TimeoutError) as exc:
        raise BriefgenError([Diagnostic(scheduler, f"cannot reach the Dask scheduler: {exc}")]) from None
    with client:
        futures = client.map(work, items, pure=False)
        for future in as_completed(futures):
            yield future.result()


def _warm_up(scratch: str) -> None:
    """Set up a worker as it starts: Ctrl-C left to the parent, temporary files in its folder, WeasyPrint
    imported and the fonts set up once; then set aside what lasts of that."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tempfile.tempdir = scratch
    from briefgen import print_pdf

    print_pdf.warm_up()
    _freeze_what_exists()
