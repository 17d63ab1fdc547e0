"""Work done in copies of this process (Linux), which stays as it was: each piece of work is sent to a
copy, pickled, and its result comes back the same way.

A warm build worker renders its briefs so. A copy never runs the garbage collector, whose passes over a
rendered document cost a good part of a render; it frees each document by reference counting alone, and
its next render reuses that memory. What only the collector would free (reference cycles, about 10 MiB a
render of the sample) stays until the copy ends: after WORKS_PER_COPY pieces of work, or sooner once it
has grown by GROWTH_ALLOWED, and the next piece starts a fresh copy. A copy for every render would free
nothing at all, but each render would then write all its memory afresh, page by page: about 9,300 page
faults a render of the sample against about 3,400 (13,500 against 7,700, and a fifth more CPU, before
stack_room; measured in the README).

The worker's own memory stays as it was after its first brief. A copy dies with this process, and when
a copy is killed (by the out-of-memory killer, or a CPU-time limit), this process ends by the same
signal, so whoever watches it sees it die as it would have without copies.
"""

import contextlib
import gc
import os
import pickle
import signal
import struct
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, NoReturn, TypeVar

from briefgen import lifeline

T = TypeVar("T")

WORKS_PER_COPY = 8
GROWTH_ALLOWED = 160 * 2**20  # bytes of resident memory a copy may gain before it ends
HEADER = struct.Struct("!Q")  # the length of the pickle that follows, in bytes


def available() -> bool:
    """Whether work can run in a copy here: on Linux, from a process with a single thread (a copy of a
    process with several would hold the others' locks, with nobody left to release them)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


@dataclass
class _Copy:
    pid: int
    work_to: IO[bytes]  # where this process writes work for the copy
    results_from: IO[bytes]  # where it reads what came of it


class Copies:
    """Copies of this process to do work in, one piece at a time: the same copy until it ends, then a new one."""

    def __init__(self, works_per_copy: int = WORKS_PER_COPY, growth_allowed: int = GROWTH_ALLOWED) -> None:
        self.works_per_copy = works_per_copy
        self.growth_allowed = growth_allowed
        self._copy: _Copy | None = None

    def run(self, work: Callable[[], T]) -> T:
        """work() in a copy: its result, or the exception it raised, raised again here. work must pickle."""
        message = pickle.dumps(work, pickle.HIGHEST_PROTOCOL)
        copy = self._copy = self._copy or self._start()
        try:
            _send(copy.work_to, message)
            reply = _receive(copy.results_from)
        except BrokenPipeError:  # it ended while waiting for work
            reply = None
        if reply is None:
            status = self._end(copy)
            raise RuntimeError(f"the copy of the process doing the work ended with status {status}, sending nothing")
        returned, value, last = pickle.loads(reply)
        if last:
            self._end(copy)
        if not returned:
            raise value
        return value

    def close(self) -> None:
        """End the copy there is, if any, and wait for it: its time counts as this process's children's."""
        if self._copy is not None:
            self._end(self._copy, ending_here=False)

    def _start(self) -> _Copy:
        work_read, work_write = os.pipe()
        results_read, results_write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            os.close(work_write)
            os.close(results_read)
            _serve(work_read, results_write, parent, self.works_per_copy, self.growth_allowed)
        os.close(work_read)
        os.close(results_write)
        return _Copy(pid, os.fdopen(work_write, "wb"), os.fdopen(results_read, "rb"))

    def _end(self, copy: _Copy, ending_here: bool = True) -> int:
        """Wait for the copy to end, having told it so: its exit status; if a signal ended it, this process
        ends likewise, with ending_here (no work of this process's was lost when it closes its copy)."""
        self._copy = None
        for pipe in (copy.work_to, copy.results_from):
            with contextlib.suppress(BrokenPipeError):  # what was left unsent goes with the copy
                pipe.close()
        _, status = os.waitpid(copy.pid, 0)
        if os.WIFSIGNALED(status) and ending_here:
            _end_by(os.WTERMSIG(status))
        return os.waitstatus_to_exitcode(status)


def _serve(work_read: int, results_write: int, parent: int, works: int, growth_allowed: int) -> NoReturn:
    """In the copy: do each piece of work sent, replying (returned, result or exception, last) to each, until
    the pipe closes, `works` are done or the copy has grown too much; then end at once, with no clean-up
    of Python's (which would run this process's atexit hooks, such as removing its fonts)."""
    status = 1
    try:
        lifeline.end_with_parent(parent)  # as when Ctrl-C's clean-up ends the worker
        gc.disable()  # what the collector alone would free goes when the copy ends
        resident_at_start = _resident()
        with os.fdopen(work_read, "rb") as work_from, os.fdopen(results_write, "wb") as results_to:
            for done in range(1, works + 1):
                message = _receive(work_from)
                if message is None:
                    break
                outcome = _outcome(message)
                last = done == works or _resident() - resident_at_start > growth_allowed
                _send(results_to, _pickled(outcome, last))
                if last:
                    break
        status = 0
    finally:
        os._exit(status)


def _outcome(message: bytes) -> tuple[bool, object]:
    try:
        return True, pickle.loads(message)()
    except BaseException as exc:  # raised again in the parent, as if the work had run there
        return False, exc


def _pickled(outcome: tuple[bool, object], last: bool) -> bytes:
    """The reply to send; for what cannot be pickled, a RuntimeError with the exception's text, or the error
    pickling the result."""
    try:
        return pickle.dumps((*outcome, last), pickle.HIGHEST_PROTOCOL)
    except Exception:
        error = outcome[1] if isinstance(outcome[1], BaseException) else None
        text = "".join(traceback.format_exception(error)) if error else traceback.format_exc()
        return pickle.dumps((False, RuntimeError(text), last), pickle.HIGHEST_PROTOCOL)


def _send(pipe: IO[bytes], message: bytes) -> None:
    pipe.write(HEADER.pack(len(message)))
    pipe.write(message)
    pipe.flush()


def _receive(pipe: IO[bytes]) -> bytes | None:
    """The next message, or None if the pipe closed (before or in the middle of one)."""
    header = pipe.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    message = pipe.read(length)
    return message if len(message) == length else None


def _resident() -> int:
    """This process's resident memory, in bytes."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _end_by(number: int) -> NoReturn:
    """End this process by the signal that ended its copy."""
    if number != signal.SIGKILL:  # whose action cannot be changed
        signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [number])
    os.kill(os.getpid(), number)
    os._exit(128 + number)  # a signal whose default is not to end the process
