"""Batch throughput: `briefgen build --format pdf --force` against the obvious alternatives.

N copies of the sample (under different ids, in a temporary project) are rendered to PDF three ways:

  build         `briefgen build --format pdf --force` with its default worker pool (jobs = cores)
  weasyprint    the `weasyprint` command once per brief, on the print HTML briefgen hands WeasyPrint
                (written into the project folder so relative URLs resolve as in a build; --pdf-tags as
                briefgen renders, so each run does the same work and writes the same PDF, but for
                the deflating: briefgen's streams are zlib-ng's, the command's zlib's)
  in-process    one fresh Python process calling briefgen.pipeline.render_brief in a for loop (jobs = 1);
                then, set up as a build worker is, the same process renders up to 11 of the briefs again
                as a worker does (briefgen.batch.run_many: on Linux, in copies of the process, up to
                eight a copy), to give the ceiling below
  side by side  jobs such worker-style processes at once, as a build's workers run: what a render costs
                with every core busy, which a shared machine may make dearer than one alone

Wall times include process start-up, as a user would see them. Prints the ratios
"build vs weasyprint-loop" (target >= 5x on 2 cores) and "build vs in-process loop".

    python bench/batch.py [--n 50] [--jobs J] [--theme NAME] [--keep]

The default, 50 briefs, is the folder of sources the issue's trial names. The fixed costs of a build
(starting Python and the workers, each worker's first, cold render) weigh more in fewer briefs:
--n 20 gives a lower ratio, --n 100 a higher one.

--theme renders every brief in another theme (the project's briefgen.yaml names it), e.g. `memo`, the
one-page summary, to see how the ratios move with the length of a brief.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import common

if TYPE_CHECKING:
    from briefgen.pipeline import Project

TARGET_VS_WEASYPRINT = 5.0
WORKER_RENDERS = 10  # briefs after the first the in-process leg renders again as a build worker does, for the ceiling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50, help="briefs to render (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="builds, each followed by a share of the command's runs")
    parser.add_argument("--jobs", type=int, default=0, help="briefgen build --jobs (default: not given, = cores)")
    parser.add_argument("--theme", help="the theme every brief renders in (default: the sample's, brief)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument("--child-loop", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_loop:
        child_loop(args.child_loop)
        return
    if args.child_worker:
        child_worker(args.child_worker)
        return

    common.print_machine(f"batch: {args.n} briefs to PDF", args.theme)
    jobs = args.jobs or common.default_jobs()
    root = common.make_project(args.n, theme=args.theme)
    try:
        measure(root, args.n, args.jobs, jobs, max(1, min(args.rounds, args.n)))
    finally:
        common.remove_project(root, args.keep)


def measure(root: Path, n: int, jobs_option: int, jobs: int, rounds: int) -> None:
    sources = sorted((root / "sources").glob("*.yaml"))
    briefgen, weasyprint = common.tool("briefgen"), common.tool("weasyprint")

    # The print HTML of every brief, beside the sources' project root (its base URL in a build).
    def write_print_html() -> list[Path]:
        pages = []
        for source in sources:
            page = root / f"{source.stem}.print.html"
            page.write_text(common.print_html(source, root), encoding="utf-8")
            pages.append(page)
        return pages

    with common.stopwatch() as html_time:
        pages = common.retrying("rendering the print HTML", write_print_html)
    (root / "weasyprint-out").mkdir()

    def weasyprint_one(page: Path) -> common.Timed:
        out = root / "weasyprint-out" / f"{page.name.removesuffix('.print.html')}.pdf"
        return common.run([weasyprint, "--pdf-tags", "--quiet", str(page), str(out)], root)

    # Warm the page cache and fontconfig's cache once, untimed, so no contender pays for them alone.
    common.retrying("warm-up", lambda: weasyprint_one(pages[0]))
    startup = min(common.run([weasyprint, "--version"], root).wall for _ in range(3))

    command = [briefgen, "build", "--format", "pdf", "--force", *(["--jobs", str(jobs_option)] if jobs_option else [])]

    def build() -> common.Timed:
        timed = common.run(command, root)
        counts = common.build_counts(timed.stdout)
        if counts.get("built") != n:
            raise common.CommandFailed(command, 0, timed.stdout, f"expected {n} built, got {counts}")
        return timed

    # Rounds of a build, then a share of the command's runs: the machine's speed drifts over minutes (it is
    # shared), and interleaving lets both sides meet the same drift.
    print(
        f"running, in {rounds} rounds: {' '.join(command)}  (jobs = {jobs}); then weasyprint --pdf-tags"
        f" IN.print.html OUT.pdf on every {rounds}th brief",
        flush=True,
    )
    builds: list[common.Timed] = []
    runs: list[common.Timed] = []
    for number in range(rounds):
        builds.append(common.retrying("briefgen build", build))
        share = pages[number::rounds]
        share_runs = common.retrying("weasyprint loop", lambda share=share: [weasyprint_one(page) for page in share])
        runs += share_runs
        command_per_brief = sum(r.wall for r in share_runs) / len(share_runs)
        print(
            f"  round {number + 1}: build {common.seconds(builds[-1].wall)};"
            f" the command {command_per_brief:.2f} s/brief over {len(share_runs)},"
            f" so {command_per_brief * n / builds[-1].wall:.2f}x",
            flush=True,
        )
    built = sorted(builds, key=lambda timed: timed.wall)[len(builds) // 2]  # the median build
    wp_wall, wp_cpu = sum(r.wall for r in runs), sum(r.cpu for r in runs)

    print("running: one Python process, render_brief in a for loop (jobs = 1)", flush=True)
    loop = common.retrying(
        "in-process loop", lambda: common.run([sys.executable, __file__, "--child-loop", str(root)], root)
    )
    loop_result = common.parse_result(loop.stdout)
    print(f"running: {jobs} processes side by side, each rendering as a build worker does", flush=True)
    loaded = common.retrying("workers side by side", lambda: side_by_side(root, jobs))

    first = sources[0].stem
    same = {
        common.decompressed_sha256(root / "build" / f"{first}.pdf"),
        common.decompressed_sha256(root / "weasyprint-out" / f"{first}.pdf"),
        common.decompressed_sha256(root / "loop-out" / f"{first}.pdf"),
    }
    loop_wall, loop_cpu = loop.wall - loop_result["worker_wall"], loop.cpu - loop_result["worker_cpu"]
    per_render = statistics.median(loop_result["renders"])
    per_worker_render = statistics.median(loop_result["worker_renders"])
    ideal = jobs * (wp_wall / n) / per_worker_render
    per_loaded_render = statistics.median(loaded)
    ideal_loaded = jobs * (wp_wall / n) / per_loaded_render

    print()
    print("results")
    print(f"  print HTML for the baseline (untimed setup): {common.seconds(html_time[0])} for {n}")
    print(f"  same PDF, streams decompressed, from all three ways (first brief): {'yes' if len(same) == 1 else 'NO'}")
    print(
        f"  briefgen build, jobs={jobs}:      {common.seconds(built.wall)} wall, {common.seconds(built.cpu)} CPU"
        f" (the median of {rounds})"
        f"  ({built.wall / n:.2f} s/brief)"
    )
    print(
        f"  weasyprint command x {n}:        {common.seconds(wp_wall)} wall, {common.seconds(wp_cpu)} CPU"
        f"  ({wp_wall / n:.2f} s/brief; min {min(r.wall for r in runs):.2f}, max {max(r.wall for r in runs):.2f})"
    )
    print(
        f"  in-process loop, jobs=1:        {common.seconds(loop_wall)} wall, {common.seconds(loop_cpu)} CPU"
        f"  (renders {common.seconds(loop_result['loop'])}; the rest is interpreter start-up and imports)"
    )
    print(
        f"  one render in-process: median {per_render:.2f} s, min {min(loop_result['renders']):.2f} s;"
        f" first render {loop_result['renders'][0]:.2f} s"
    )
    print(
        f"  one render as a build worker renders it (run_many): median {per_worker_render:.2f} s"
        f" of {len(loop_result['worker_renders'])}; with {jobs} such processes side by side:"
        f" median {per_loaded_render:.2f} s of {len(loaded)}"
    )
    print(f"  weasyprint command start-up alone (weasyprint --version, best of 3): {common.seconds(startup)}")
    print()
    ratio = wp_wall / built.wall
    print(
        common.ratio_line(
            "build vs weasyprint-loop", ratio, f">= {TARGET_VS_WEASYPRINT:g}x on 2 cores", ratio >= TARGET_VS_WEASYPRINT
        )
    )
    print(common.ratio_line("build vs in-process loop", loop_wall / built.wall, f"none; ideal about jobs = {jobs}x"))
    print(
        f"  ceiling for build vs weasyprint-loop on this machine: about {ideal:.1f}x"
        f" (= jobs x weasyprint s/brief / a worker's s/render: perfect scaling, zero start-up)"
    )
    print(
        f"  the same with every core busy: about {ideal_loaded:.1f}x (a worker's s/render side by side);"
        f" the build reaches {ratio / ideal_loaded:.0%} of it"
    )
    print(f"load average at the end: {common.load_average()}")


def child_loop(root: Path) -> None:
    """Render every source of the project in this one process, one after another; report the times."""
    started = time.perf_counter()
    from briefgen.pipeline import Format, Project, render_brief

    project = Project.open(root)
    out = root / "loop-out"
    out.mkdir(exist_ok=True)
    renders = []
    loop_started = time.perf_counter()
    for source in project.sources():
        begin = time.perf_counter()
        rendered = render_brief(source, project, [Format.PDF])
        (out / f"{rendered.brief_id}.pdf").write_bytes(rendered.outputs[Format.PDF])
        renders.append(time.perf_counter() - begin)
    ended = time.perf_counter()
    cpu = common.cpu_seconds()
    worker_renders = as_a_worker(project, project.sources()[: WORKER_RENDERS + 1])
    common.emit_result(
        {
            "startup": loop_started - started,
            "loop": ended - loop_started,
            "renders": renders,
            "worker_renders": worker_renders,
            "worker_wall": time.perf_counter() - ended,  # not part of the loop's times
            "worker_cpu": common.cpu_seconds() - cpu,
        }
    )


def child_worker(root: Path) -> None:
    """Render as a build worker does, to run side by side with others; report the times."""
    from briefgen.pipeline import Project

    project = Project.open(root)
    common.emit_result({"worker_renders": as_a_worker(project, project.sources()[: WORKER_RENDERS + 1])})


def side_by_side(root: Path, jobs: int) -> list[float]:
    """jobs child_worker processes started at once: the wall time of every render each timed."""
    command = [sys.executable, __file__, "--child-worker", str(root)]
    children = [
        subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(jobs)
    ]
    outputs = [(child, *child.communicate()) for child in children]  # every child waited for, failed or not
    times = []
    for child, stdout, stderr in outputs:
        if child.returncode != 0:
            raise common.CommandFailed(command, child.returncode, stdout, stderr)
        times += common.parse_result(stdout)["worker_renders"]
    return times


def as_a_worker(project: "Project", sources: list[Path]) -> list[float]:
    """Set up as a build worker, render the sources as one does (run_many): the wall time of each after the
    first, which a worker renders itself to fill the caches its copies share."""
    from briefgen.batch import RenderTask, prepare_worker, run_many
    from briefgen.pipeline import Format

    prepare_worker()
    times = []
    for number, source in enumerate(sources):
        begin = time.perf_counter()
        result = run_many(RenderTask(source, project, (Format.PDF,)))
        assert result.rendered is not None, result.errors
        if number:
            times.append(time.perf_counter() - begin)
    return times


if __name__ == "__main__":
    main()
