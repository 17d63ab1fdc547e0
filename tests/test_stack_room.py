"""Deep recursion with room on CPython's frame stack (briefgen.stack_room).

The page faults are counted in a fresh Python, away from pytest's own threads and allocations.
"""

import json
import subprocess
import sys
import textwrap

import pytest
from helpers import child_env

from briefgen.stack_room import called_with_room

SWINGS = 300  # times the recursion goes down 400 calls and back up: across two chunk boundaries each time
FAULTS_ALLOWED = 100  # the pages the frames touch once, and the count's noise; without room, 2 per swing or more


def faults_of_swings(with_room: bool) -> int:
    """Minor page faults while a recursion swings from shallow to deep and back, SWINGS times."""
    code = f"""
        import json, resource
        from briefgen.stack_room import called_with_room

        def down(depth):
            return down(depth - 1) + 1 if depth else 0

        def swings():
            return sum(down(400) for _ in range({SWINGS}))

        swings()  # what the first time touches (the code's caches), untimed
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        total = called_with_room(swings) if {with_room} else swings()
        print(json.dumps([total, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before]))
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=child_env(), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    total, faults = json.loads(proc.stdout)
    assert total == 400 * SWINGS
    return faults


def test_deep_recursion_with_room_maps_no_chunks_over_and_over() -> None:
    assert faults_of_swings(with_room=True) < FAULTS_ALLOWED


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="3.13 and 3.14 releases from March 2026 keep a chunk back")
def test_without_room_this_python_maps_a_chunk_at_every_crossing() -> None:
    """The control: what the test above would count without the room, on 3.11 and 3.12."""
    assert faults_of_swings(with_room=False) >= 2 * SWINGS


def test_returns_what_the_work_returns_and_raises_what_it_raises() -> None:
    assert called_with_room(lambda: "laid out") == "laid out"

    def fails() -> None:
        raise ValueError("bad box")

    with pytest.raises(ValueError, match="bad box"):
        called_with_room(fails)
