"""Processes that end when the process that started them ends (Linux).

A build's workers, and each worker's copies, ask the kernel to kill them when their parent ends, however
it ends. Killed outright (by the out-of-memory killer, or `kill -9`), a parent can clean up nothing, and a
worker left behind lives on for good, blocked on sending a result nobody reads, with its memory and the
build's output still open (a command reading that output never sees it end).
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends


def end_with_parent(parent: int) -> None:
    """Have the kernel kill this process (SIGKILL) when its parent, whose pid is parent, ends; end it at once
    if that has already happened. Strictly, the kernel watches the thread that started this process: briefgen
    starts its workers and copies from their parent's main thread. Elsewhere than on Linux, nothing."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)
