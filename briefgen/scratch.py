"""The folder a command's worker processes keep their temporary files in, and what killed commands left.

A command holds its folder (an flock on it) for as long as it runs, and the kernel lets the lock go when
the process ends, however it ends. A command killed outright (kill -9, the out-of-memory killer) cannot
remove its folder, nor the fonts its workers' WeasyPrint copied into it (about 3 MB a worker), so the
next command that makes a folder first removes every folder of the kind, of the same user, that nothing
holds. Linux and macOS (flock); the folders are in the system's temporary folder (TMPDIR).
"""

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "briefgen-workers-"


@contextlib.contextmanager
def workers_folder() -> Iterator[str]:
    """A new folder for workers' temporary files, held until the block ends, then removed; stale ones go first."""
    sweep_stale()
    while True:
        folder = tempfile.mkdtemp(prefix=PREFIX)
        try:
            handle = os.open(folder, os.O_RDONLY)
        except FileNotFoundError:  # another command's sweep found it first and has removed it
            continue
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits out another command's sweep that found it first
        if os.fstat(handle).st_nlink:  # that sweep did not remove it
            break
        os.close(handle)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(handle)


def sweep_stale() -> None:
    """Remove the workers' folders of this user's commands that ended without removing them."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:  # not a folder, a link, or not ours to open
            continue
        try:
            if os.fstat(handle).st_uid == os.getuid():
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises when held: its command is running
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass
        finally:
            os.close(handle)
