"""Personalised copies: `briefgen distribute` of 2 briefs to R recipients (2R stamped copies).

Measures:
  distribute   `briefgen distribute` of 2 briefs to R recipients from a generated CSV (default jobs)
  bases        `briefgen build --edition public --format pdf --force` of the same 2 briefs alone: the
               start-up and base rendering that distribute also pays (recipients get the public edition)
  stamping     distribute - bases, divided by the 2R copies: what one more copy costs, in CPU time
               (distribute's workers included) and on the wall clock
  re-render    render_brief of one brief (pdf, public edition) in this process, warm, averaged over
               a few: what a copy would cost if each were rendered with its stamp baked in

Prints "stamping is Nx cheaper than re-rendering" in CPU time, so that distribute's workers do not
flatter it (target >= 50x), the wall-clock ratio beside it, and, for where the time goes,
the stamp sheets (one WeasyPrint page per copy, printed as distribute prints them, STAMPS_PER_SHEET to a
sheet) and one pikepdf overlay measured on their own.

    python bench/stamp.py [--recipients 500] [--renders 5] [--theme NAME] [--keep]

--theme renders both briefs in another theme (`memo`, the one-page summary, say): fewer pages to stamp
and a cheaper render to compare with.
"""

import argparse
import csv
import io
import statistics
import sys
import time
from pathlib import Path

import common

TARGET = 50.0
BRIEFS = 2
FIRST_NAMES = ["Ana", "Zoë", "Bolat", "Mariam", "Jean-Luc", "Oksana", "Tomasz", "Aigerim", "Sean", "Łucja"]
ORGANISATIONS = ["Ministry of Foreign Affairs", "Defence Staff", "Embassy in Astana", "Policy Planning", "Desk 3"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", "--n", type=int, default=500, help="recipients (default 500: 1000 copies)")
    parser.add_argument("--renders", type=int, default=5, help="briefs re-rendered to time one render (default 5)")
    parser.add_argument("--theme", help="the theme every brief renders in (default: the sample's, brief)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument("--child-distribute", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_distribute is not None:
        child_distribute(args.child_distribute)
        return

    copies = BRIEFS * args.recipients
    common.print_machine(
        f"stamp: distribute {BRIEFS} briefs to {args.recipients} recipients ({copies} copies)", args.theme
    )
    root = common.make_project(BRIEFS, theme=args.theme)
    try:
        measure(root, args.recipients, args.renders)
    finally:
        common.remove_project(root, args.keep)


def write_recipients(path: Path, count: int) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "organisation", "email"])
    for number in range(1, count + 1):
        name = f"{FIRST_NAMES[number % len(FIRST_NAMES)]} Recipient {number:04d}"
        writer.writerow([name, ORGANISATIONS[number % len(ORGANISATIONS)], f"r{number:04d}@example.org"])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def measure(root: Path, recipients: int, renders: int) -> None:
    briefgen = common.tool("briefgen")
    sources = [str(path.relative_to(root)) for path in sorted((root / "sources").glob("*.yaml"))]
    copies = BRIEFS * recipients
    write_recipients(root / "recipients.csv", recipients)
    write_recipients(root / "one-recipient.csv", 1)

    distribute = [briefgen, "distribute", *sources, "--recipients", "recipients.csv", "--out", "dist"]
    bases = [briefgen, "build", *sources, "--edition", "public", "--format", "pdf", "--force", "--out", "bases"]
    single = [briefgen, "distribute", *sources, "--recipients", "one-recipient.csv", "--out", "dist-one"]

    def run_checked(command: list[str], expect: str) -> common.Timed:
        timed = common.run(command, root)
        if expect not in timed.stdout:
            raise common.CommandFailed(command, 0, timed.stdout, f"expected {expect!r} in the output")
        return timed

    # Untimed warm-up (page cache, fontconfig's cache, bytecode), which also checks that the command works.
    common.retrying("warm-up", lambda: run_checked(bases, f"{BRIEFS} built"))
    try:
        common.run(single, root)
    except common.CommandFailed as exc:
        if "has no attribute 'jobs'" not in str(exc):
            raise
        # Some versions define no --jobs for distribute yet read args.jobs, so the command always fails.
        # Measure the same call through the Python API then, and say so.
        print(
            "NOTE: `briefgen distribute` fails (AttributeError: 'Namespace' object has no attribute 'jobs');"
            " measuring briefgen.distribute.distribute() in a child process, as the CLI would call it"
        )
        distribute = [sys.executable, __file__, "--child-distribute", *distribute[2:]]
        single = [sys.executable, __file__, "--child-distribute", *single[2:]]
    print(f"running: {' '.join(distribute)}  ({copies} copies)", flush=True)
    dist = common.retrying("distribute", lambda: run_checked(distribute, f"{copies} copies"))
    print(f"running: {' '.join(bases)}", flush=True)
    base = common.retrying("base build", lambda: run_checked(bases, f"{BRIEFS} built"))
    print("running: the same distribute to 1 recipient (marginal-cost cross-check)", flush=True)
    one = common.retrying("distribute to one", lambda: run_checked(single, f"{BRIEFS} copies"))

    print(f"running: render_brief x {renders + 1} in this process (the first, cold, is not counted)", flush=True)
    render_times = common.retrying("re-render", lambda: rerender(root, renders))
    print("running: the stamp sheets and one overlay on their own (where the time goes)", flush=True)
    sheet, overlay = common.retrying("breakdown", lambda: breakdown(root, recipients))

    files = list((root / "dist").rglob("*.pdf"))
    per_render = statistics.mean(cpu for _, cpu in render_times)
    stamping = dist.wall - base.wall
    per_copy = stamping / copies
    per_copy_cpu = (dist.cpu - base.cpu) / copies
    marginal = (dist.cpu - one.cpu) / (copies - BRIEFS)
    print()
    print("results")
    print(
        f"  distribute, {copies} copies:            {common.seconds(dist.wall)} wall, {common.seconds(dist.cpu)} CPU"
        f"  ({len(files)} stamped PDFs written)"
    )
    print(
        f"  base PDFs alone (build of {BRIEFS} briefs): {common.seconds(base.wall)} wall, "
        f"{common.seconds(base.cpu)} CPU"
    )
    print(
        f"  stamping = distribute - bases:        {common.seconds(stamping)} wall, {per_copy * 1000:.1f} ms per copy;"
        f" {per_copy_cpu * 1000:.1f} CPU-ms per copy (the workers' included)"
    )
    print(
        f"  cross-check, CPU of (distribute to {recipients} - distribute to 1) / {copies - BRIEFS} copies: "
        f"{marginal * 1000:.1f} CPU-ms per copy (distribute to 1: {common.seconds(one.wall)} wall)"
    )
    walls = [wall for wall, _ in render_times]
    print(
        f"  re-render one brief (render_brief, pdf): mean {per_render:.3f} CPU-s over {renders}"
        f" (wall: min {min(walls):.3f}, max {max(walls):.3f} s)"
    )
    print(
        f"  in this one process: stamp sheets for {copies} copies {common.seconds(sheet)}"
        f" ({sheet / copies * 1000:.1f} ms/copy); one overlay+save (pikepdf) {overlay * 1000:.1f} ms/copy"
        " (distribute does both in its workers)"
    )
    print()
    ratio = per_render / per_copy_cpu if per_copy_cpu > 0 else float("inf")
    verdict = "MET" if ratio >= TARGET else "NOT MET"
    print(f"stamping is {ratio:.1f}x cheaper than re-rendering, in CPU time  (target >= {TARGET:g}x)  {verdict}")
    if marginal > 0:
        print(f"  by the marginal cross-check: {per_render / marginal:.1f}x")
    else:
        print("  by the marginal cross-check: lost in the noise (use more recipients)")
    wall_ratio = per_render / per_copy if per_copy > 0 else float("inf")
    print(f"  on the wall clock (distribute's workers against one process re-rendering): {wall_ratio:.1f}x")
    print(f"load average at the end: {common.load_average()}")


def child_distribute(argv: list[str]) -> None:
    """What `briefgen distribute BRIEF... --recipients FILE --out DIR` does, with jobs = cores."""
    from briefgen.batch import default_jobs
    from briefgen.distribute import distribute
    from briefgen.pipeline import Project
    from briefgen.recipients import load_recipients

    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--recipients", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    project = Project.open(Path.cwd())
    recipients = load_recipients(args.recipients, project)
    manifest = distribute(args.paths, recipients, project, args.out, default_jobs())
    print(f"{len(args.paths) * len(recipients)} copies for {len(recipients)} recipients; manifest in {manifest}")


def rerender(root: Path, renders: int) -> list[tuple[float, float]]:
    """Wall and CPU seconds per render_brief of the sample (pdf, the recipients' public edition), warm."""
    from briefgen.pipeline import Format, Project, render_brief

    project = Project.open(root)
    source = sorted((root / "sources").glob("*.yaml"))[0]
    render_brief(source, project, [Format.PDF], "public")  # imports WeasyPrint, compiles templates
    times = []
    for _ in range(renders):
        started, started_cpu = time.perf_counter(), time.process_time()
        render_brief(source, project, [Format.PDF], "public")
        times.append((time.perf_counter() - started, time.process_time() - started_cpu))
    return times


def breakdown(root: Path, recipients: int) -> tuple[float, float]:
    """The stamp sheets for every copy, and the mean of one copy's overlay and save (distribute's own steps,
    the base opened once as distribute opens it)."""
    import pikepdf

    from briefgen import distribute as dist
    from briefgen.pipeline import Format, Project, print_stamps, render_brief
    from briefgen.stamp_text import Stamp

    project = Project.open(root)
    stamps = [Stamp(f"Recipient {n:04d}", "Organisation", f"{n:012X}") for n in range(BRIEFS * recipients)]
    started = time.perf_counter()
    per_sheet = dist.STAMPS_PER_SHEET
    sheets = [print_stamps(stamps[start : start + per_sheet], project) for start in range(0, len(stamps), per_sheet)]
    sheet_time = time.perf_counter() - started
    base = render_brief(sorted((root / "sources").glob("*.yaml"))[0], project, [Format.PDF], "public")
    pages = pikepdf.open(io.BytesIO(sheets[0])).pages
    sample = min(50, len(pages))
    started = time.perf_counter()
    with dist._Stamper(base.outputs[Format.PDF]) as stamper:
        for number, page in enumerate(list(pages)[1 : sample + 1]):  # page 1 holds the font repertoire
            stamper.stamped(page, f"{number:012X}")
    return sheet_time, (time.perf_counter() - started) / sample


if __name__ == "__main__":
    main()
