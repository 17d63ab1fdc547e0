"""Work done in a throwaway copy of this process (Linux): the copy does it, sends back the result and
ends without freeing anything, and this process stays as it was.

A warm build worker renders each brief so. Freeing a rendered document object by object, and the
garbage collector's pass over what it leaves in cycles, cost about a seventh of a render of the
sample; the kernel takes a copy's memory back at once. A worker's own memory no longer grows with
its renders either. The copy dies with this process, and when the copy is killed (by the
out-of-memory killer, or a CPU-time limit), this process ends by the same signal, so whoever watches
it sees it die as it would have without copies.
"""

import ctypes
import gc
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable
from typing import NoReturn, TypeVar

T = TypeVar("T")

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends


def available() -> bool:
    """Whether work can run in a copy here: on Linux, from a process with a single thread (a copy of a
    process with several would hold the others' locks, with nobody left to release them)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def in_a_copy(work: Callable[[], T]) -> T:
    """work() in a copy of this process: its result, or the exception it raised, raised again here."""
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _work_and_end(work, write_end, parent)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        _end_by(os.WTERMSIG(status))
    if not payload:
        ended = os.waitstatus_to_exitcode(status)
        raise RuntimeError(f"the copy of the process doing the work ended with status {ended}, sending nothing")
    returned, value = pickle.loads(payload)
    if not returned:
        raise value
    return value


def _work_and_end(work: Callable[[], object], write_end: int, parent: int) -> NoReturn:
    """In the copy: do the work, write (returned, result or exception) to write_end, and end at once, with
    no clean-up of Python's (which would run this process's atexit hooks, such as removing its fonts)."""
    status = 1
    try:
        _die_with(parent)
        gc.disable()  # everything the work makes goes when the copy ends
        try:
            outcome: tuple[bool, object] = (True, work())
        except BaseException as exc:  # raised again in the parent, as if the work had run there
            outcome = (False, exc)
        try:
            payload = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
        except Exception:  # what cannot be pickled: an exception's text, or the error pickling the result
            error = outcome[1] if isinstance(outcome[1], BaseException) else None
            text = "".join(traceback.format_exception(error)) if error else traceback.format_exc()
            payload = pickle.dumps((False, RuntimeError(text)), pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        status = 0
    finally:
        os._exit(status)


def _die_with(parent: int) -> None:
    """Have the kernel kill this copy when the process it copies ends (ended by Ctrl-C's clean-up, say)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)


def _end_by(number: int) -> NoReturn:
    """End this process by the signal that ended its copy."""
    if number != signal.SIGKILL:  # whose action cannot be changed
        signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [number])
    os.kill(os.getpid(), number)
    os._exit(128 + number)  # a signal whose default is not to end the process
