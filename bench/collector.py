"""Python's garbage collector in a long-lived worker: what a build worker's handling of it saves.

Two child processes, one after the other, each render the sample (pdf) M times:

  plain     render_brief in a loop, the collector as Python sets it up
  worker    briefgen.batch.run_many in a loop, as a build worker renders: the collector paused during each
            render, then one pass over its youngest generation (what the render allocated); modules and
            fonts set aside from the collector (frozen) before the first render

Each times every collection with gc.callbacks, so the time the collector takes is measured directly
rather than read off wall-clock differences, which move by 20% on a shared machine. Reports, per render
after the first, the collector's milliseconds by generation, CPU seconds per render, and peak RSS.

    python bench/collector.py [--renders 15]
"""

import argparse
import gc
import resource
import subprocess
import sys
import time
from pathlib import Path

import common


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=15, help="renders per leg after the first (default 15)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument("--child", choices=("plain", "worker"), help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.project, args.renders)
        return

    common.print_machine(f"collector: time in Python's garbage collector over {args.renders} renders per leg")
    root = common.make_project(1)
    try:
        legs = {
            leg: common.retrying(f"{leg} leg", lambda leg=leg: run_leg(leg, root, args.renders))
            for leg in ("plain", "worker")
        }
    finally:
        common.remove_project(root, args.keep)

    print()
    print("results (per render, after each process's first)")
    for leg, result in legs.items():
        spent = result["gc_seconds"]
        print(
            f"  {leg:7s} collector {sum(spent) * 1000:5.0f} ms"
            f" (generation 0: {spent[0] * 1000:.0f}, 1: {spent[1] * 1000:.0f}, 2: {spent[2] * 1000:.0f});"
            f" render {result['cpu']:.2f} CPU-s; peak RSS {common.mib(result['peak_kib'])}"
        )
    saved = sum(legs["plain"]["gc_seconds"]) - sum(legs["worker"]["gc_seconds"])
    print()
    print(
        f"collector time saved per render: {saved * 1000:.0f} ms,"
        f" {saved / legs['plain']['cpu']:.0%} of a plain render's CPU time (no target)"
    )
    print(f"load average at the end: {common.load_average()}")


def run_leg(leg: str, root: Path, renders: int) -> dict:
    command = [sys.executable, __file__, "--child", leg, "--project", str(root), "--renders", str(renders)]
    proc = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise common.CommandFailed(command, proc.returncode, proc.stdout, proc.stderr)
    return common.parse_result(proc.stdout)


def child(leg: str, root: Path, renders: int) -> None:
    from briefgen.batch import RenderTask, prepare_worker, run_many
    from briefgen.pipeline import Format, Project, render_brief

    if leg == "worker":
        prepare_worker()
    project = Project.open(root)
    source = root / "sources" / "brief-001.yaml"
    task = RenderTask(source, project, (Format.PDF,))
    render = (lambda: render_brief(source, project, [Format.PDF])) if leg == "plain" else (lambda: run_many(task))
    render()  # the first render warms caches

    spent, started = [0.0, 0.0, 0.0], [0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[info["generation"]] += time.perf_counter() - started[0]

    gc.callbacks.append(timed)
    cpu = time.process_time()
    for _ in range(renders):
        render()
    cpu = time.process_time() - cpu
    common.emit_result(
        {
            "gc_seconds": [value / renders for value in spent],
            "cpu": cpu / renders,
            "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
    )


if __name__ == "__main__":
    main()
