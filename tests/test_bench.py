"""The benchmarks in bench/ still run: each, at its smallest size, exits 0 and prints its verdict.

Their numbers are not checked (a few briefs say nothing about speed, and the machines are shared); what
is checked is that they measure what they claim, such as the batch benchmark's three ways of rendering
giving the same PDF. They reach into briefgen's modules, so a change there can break them.
"""

import re
import subprocess
import sys

import pytest
from helpers import REPO, assert_no_traceback

VERDICT = re.compile(r"^\S[^\n]*\((?:target [^)]*|no target)\)(?:\s+(?:MET|NOT MET))?$", re.MULTILINE)
RUNS = {
    # benchmark: (its smallest arguments, a line its output must have); one-page memos where a theme can be chosen
    "batch": (
        ["--n", "2", "--rounds", "1", "--theme", "memo"],
        "same PDF, streams decompressed, from all three ways (first brief): yes",
    ),
    "noop": (["--n", "2"], "no-op / full: "),
    "stamp": (["--recipients", "2", "--renders", "1", "--theme", "memo"], "stamping is "),
    "memory": (
        ["--renders", "3", "--baseline-at", "2", "--contrast", "0"],
        "peak RSS growth, renders 2 -> 3, shared config: ",
    ),
    "collector": (["--renders", "2", "--theme", "memo"], "copies: collector time saved per render "),
}


@pytest.mark.parametrize("name", RUNS)
def test_a_benchmark_runs_and_gives_its_verdict(name: str) -> None:
    arguments, expected = RUNS[name]
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / f"{name}.py"), *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert expected in proc.stdout, proc.stdout
    assert VERDICT.search(proc.stdout), proc.stdout
