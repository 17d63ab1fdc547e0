"""Python's garbage collector in a long-lived worker: what a build worker's handling of it saves.

Three child processes, one after the other, each render the sample (pdf) M times:

  plain     render_brief in a loop, the collector as Python sets it up
  paused    render_brief in a loop, as a build worker renders where it cannot copy itself (not on Linux,
            and its first brief everywhere): modules and fonts set aside from the collector (frozen)
            before the first render, the collector paused during each render
            (briefgen.batch.collector_paused), then one pass over its youngest generation (what the render
            allocated)
  copies    briefgen.batch.run_many in a loop, set up as a build worker is (prepare_worker): on Linux,
            the renders after the first in copies of the process, up to eight a copy, which never run
            the collector; their CPU time and peak memory are counted with the process's

With --long K, plain and paused then render a long document as well, fewer times: the sample's print HTML
with its body repeated K times (about 6 K pages), printed by briefgen.print_pdf, plainly or with the
collector paused as a worker pauses it. The longer the document, the more often the collector's
passes scan it during a render.

Each times every collection with gc.callbacks, so the time the collector takes is measured directly
rather than read off wall-clock differences, which move by 20% on a shared machine. Reports, per render
after the first, the collector's milliseconds by generation, CPU seconds per render, and peak RSS.

    python bench/collector.py [--renders 15] [--long 8] [--theme NAME]
"""

import argparse
import contextlib
import gc
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import common

if TYPE_CHECKING:
    from briefgen.pipeline import Project

LEGS = ("plain", "paused", "copies")
LONG_RENDERS = 3  # renders per leg of the long document, after the first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=15, help="renders per leg after the first (default 15)")
    parser.add_argument("--long", type=int, default=0, help="also render the sample repeated K times (e.g. 8)")
    parser.add_argument("--theme", help="the theme the sample renders in (default: the sample's, brief)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument("--child", choices=LEGS, help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.project, args.renders, args.long)
        return

    common.print_machine(
        f"collector: time in Python's garbage collector over {args.renders} renders per leg", args.theme
    )
    root = common.make_project(1, theme=args.theme)
    try:
        legs = {leg: common.retrying(f"{leg} leg", lambda leg=leg: run_leg(leg, root, args.renders)) for leg in LEGS}
        long_legs = {
            leg: common.retrying(f"{leg} leg, long", lambda leg=leg: run_leg(leg, root, LONG_RENDERS, args.long))
            for leg in (("plain", "paused") if args.long > 1 else ())
        }
    finally:
        common.remove_project(root, args.keep)

    report("the sample", legs)
    if long_legs:
        report(f"the sample's body {args.long} times over ({long_legs['plain']['pages']} pages)", long_legs)
    print(f"load average at the end: {common.load_average()}")


def report(what: str, legs: dict[str, dict]) -> None:
    print()
    print(f"results for {what} (per render, after each process's first)")
    for leg, result in legs.items():
        spent = result["gc_seconds"]
        print(
            f"  {leg:7s} collector {sum(spent) * 1000:5.0f} ms"
            f" (generation 0: {spent[0] * 1000:.0f}, 1: {spent[1] * 1000:.0f}, 2: {spent[2] * 1000:.0f});"
            f" render {result['cpu']:.2f} CPU-s; peak RSS {common.mib(result['peak_kib'])}"
        )
    print()
    for leg in [leg for leg in legs if leg != "plain"]:
        saved = sum(legs["plain"]["gc_seconds"]) - sum(legs[leg]["gc_seconds"])
        print(
            f"{leg}: collector time saved per render {saved * 1000:.0f} ms,"
            f" {saved / legs['plain']['cpu']:.0%} of a plain render's CPU time;"
            f" CPU per render {legs[leg]['cpu'] / legs['plain']['cpu'] - 1:+.0%} (no target)"
        )


def run_leg(leg: str, root: Path, renders: int, long: int = 0) -> dict:
    command = [sys.executable, __file__, "--child", leg, "--project", str(root), "--renders", str(renders)]
    command += ["--long", str(long)]
    proc = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise common.CommandFailed(command, proc.returncode, proc.stdout, proc.stderr)
    return common.parse_result(proc.stdout)


def child(leg: str, root: Path, renders: int, long: int) -> None:
    from briefgen.batch import RenderTask, close_copies, collector_paused, prepare_worker, run_many
    from briefgen.pipeline import Format, Project, render_brief

    project = Project.open(root)
    source = root / "sources" / "brief-001.yaml"
    task = RenderTask(source, project, (Format.PDF,))

    def render_sample() -> None:
        if leg == "copies":
            run_many(task)
        else:
            with collector_paused() if leg == "paused" else contextlib.nullcontext():
                render_brief(source, project, [Format.PDF])

    if leg == "copies":
        prepare_worker()
    elif leg == "paused":
        from briefgen.print_pdf import warm_up

        warm_up()
        gc.collect()
        gc.freeze()
    pages = [0]
    render = long_render(leg, project, source, long, pages) if long > 1 else render_sample
    render()  # the first render warms caches

    spent, started = [0.0, 0.0, 0.0], [0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[info["generation"]] += time.perf_counter() - started[0]

    gc.callbacks.append(timed)
    cpu = common.cpu_seconds()
    for _ in range(renders):
        render()
    if leg == "copies":
        close_copies()  # the last copy's CPU time and peak count once it has ended
    cpu = common.cpu_seconds() - cpu
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    common.emit_result(
        {"gc_seconds": [value / renders for value in spent], "cpu": cpu / renders, "peak_kib": peak, "pages": pages[0]}
    )


def long_render(leg: str, project: "Project", source: Path, times: int, pages: list[int]) -> Callable[[], None]:
    """A render of the sample's print HTML with its body repeated, as the leg renders (the count of pages
    goes into pages)."""
    from briefgen.batch import collector_paused
    from briefgen.print_pdf import print_pdf

    html = common.print_html(source, project.root)
    body = re.search(r"(<body[^>]*>)(.*)(</body>)", html, re.S)
    assert body is not None
    html = html[: body.start(2)] + body.group(2) * times + html[body.end(2) :]

    def render() -> None:
        with collector_paused() if leg == "paused" else contextlib.nullcontext():
            printed = print_pdf(html, base_dir=project.root, allowed_roots=project.allowed_roots, shown_as=source.name)
        pages[0] = printed.pages

    return render


if __name__ == "__main__":
    main()
