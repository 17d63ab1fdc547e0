"""Room on CPython's frame stack for WeasyPrint's deep recursion.

CPython 3.11 to 3.13 keep the frames of Python calls in chunks of 16 KiB, mapped from the system (mmap)
when a call finds no room left in the current one, and unmapped as soon as the call at the bottom of a
chunk returns (CPython issue 142183; 3.13 and 3.14 releases from March 2026 keep one chunk back). Laying
out and drawing a brief, WeasyPrint's recursion goes back and forth across the boundary between two
chunks thousands of times: about 4,200 chunks mapped, touched and unmapped a render of the sample, each a
pair of system calls and a page fault, about 3% of a build's CPU (measured in the README).

called_with_room(work) calls work from a frame whose code claims a value stack of a megabyte it never
uses. CPython gives that frame a chunk of its own, sized to the next power of two (2 MiB), and the frames
of work go in the megabyte left over, far from any boundary; the system maps only the pages they touch.
"""

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

ROOM_SLOTS = 2**17  # the value-stack slots (8 bytes each) the calling frame claims: 1 MiB


def called_with_room(work: Callable[[], T]) -> T:
    """work(), with about a megabyte of CPython's frame stack to itself."""
    return _roomy_caller(work)


def _roomy_caller(work: Callable[[], T]) -> T:
    return work()


_roomy_caller.__code__ = _roomy_caller.__code__.replace(co_stacksize=ROOM_SLOTS)
