"""A process that asks for it (briefgen.lifeline) ends when the process that started it is killed outright.

A parent Python starts a child Python and is then killed with SIGKILL, which lets it clean up nothing. The
child is looked for in /proc: a zombie (ended, not yet reaped by whoever inherited it) counts as ended.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import child_env

CHILD = """
import os, sys, time
from briefgen import lifeline
if sys.argv[1] == "lifeline":
    lifeline.end_with_parent(os.getppid())
print("ready", flush=True)
time.sleep(120)
"""
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])
print(child.pid, flush=True)
time.sleep(120)
"""
ENDS_WITHIN = 20  # seconds; the kernel kills the child as its parent ends, far sooner
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's parent-death signal, /proc")


def running(pid: int) -> bool:
    """Whether pid is a process that has not ended (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def child_after_parent_killed(how: str) -> int:
    """Start a parent and its child (with how = "lifeline", the child asks to end with its parent), kill the
    parent with SIGKILL once the child is ready, and return the child's pid."""
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PARENT), textwrap.dedent(CHILD), how],
        env=child_env(PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert parent.stdout.readline() == "ready\n"
    parent.kill()
    parent.wait()
    return child


def test_a_child_ends_with_its_parent_killed_outright() -> None:
    child = child_after_parent_killed("lifeline")
    deadline = time.monotonic() + ENDS_WITHIN
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(child)


def test_without_it_the_child_outlives_its_parent() -> None:
    """The control: what the test above would see if the child did not ask."""
    child = child_after_parent_killed("plain")
    try:
        time.sleep(1)
        assert running(child)
    finally:
        os.kill(child, signal.SIGKILL)
