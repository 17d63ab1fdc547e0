"""Memory of a long-lived worker: does RSS stay flat over many renders?

Four child processes, run side by side (each its own process, so one's memory cannot blur another's):

  shared    what a build worker does: briefgen.batch.run_many on the sample (pdf only) M times in one
            process, set up as a worker is (briefgen.batch.prepare_worker), with the one FontConfiguration
            that briefgen.print_pdf caches per process; on Linux the renders after the first are made in
            copies of the process, up to eight a copy, whose peaks count as the process's
  fresh     for contrast: WeasyPrint called directly on the sample's print HTML, with a new
            weasyprint.text.fonts.FontConfiguration per render (what print_pdf avoids), fewer times
  direct    the control: WeasyPrint called directly on the same HTML with one FontConfiguration for
            all renders, as many times as fresh; it tells growth of briefgen's own from WeasyPrint's
  features  for contrast: as direct, but the HTML also sets font-variant-numeric on the body, the way
            briefgen's stylesheets did before they moved figures into the faces' @font-face rules:
            WeasyPrint leaks a Pango attribute list for every line laid out with font features

Each samples its RSS after render 20 (the baseline, once caches are warm; --baseline-at moves it) and at
the end: the peak (getrusage ru_maxrss, of the process or of its largest copy) and the current size
(/proc/self/status VmRSS, of the process itself). Growth = (end - at 20) / at 20, on the peak; target < 10%
for the shared leg.

M is 500 by default, as the target asks: about 10 minutes on the 2-core machine this was written on.

    python bench/memory.py [--renders 500] [--contrast 100] [--baseline-at 20] [--keep]
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import common

TARGET = 0.10
SAMPLE_EVERY = 25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", "--n", type=int, default=500, help="renders in the shared leg (default 500)")
    parser.add_argument(
        "--contrast",
        type=int,
        default=100,
        help="renders in each contrast leg: fresh, direct, features (default 100; 0 skips them)",
    )
    parser.add_argument(
        "--baseline-at", type=int, default=20, help="the render after which RSS is the baseline (default 20)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument("--child", choices=("shared", "fresh", "direct", "features"), help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.project, args.renders, args.baseline_at)
        return

    baseline_at = max(args.baseline_at, 1)
    renders = max(args.renders, baseline_at + 1)
    contrast = max(args.contrast, baseline_at + 1) if args.contrast else 0
    common.print_machine(f"memory: RSS of one process over {renders} renders (and {contrast} in each contrast leg)")
    root = common.make_project(1)
    try:
        measure(root, renders, contrast, baseline_at)
    finally:
        common.remove_project(root, args.keep)


def measure(root: Path, renders: int, contrast: int, baseline_at: int) -> None:
    from briefgen.batch import RENDERS_PER_WORKER

    def start(leg: str, count: int) -> subprocess.Popen:
        command = [sys.executable, __file__, "--child", leg, "--project", str(root), "--renders", str(count)]
        command += ["--baseline-at", str(baseline_at)]
        return subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(process: subprocess.Popen) -> dict:
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise common.CommandFailed(process.args, process.returncode, stdout, stderr)
        return common.parse_result(stdout)

    def legs() -> list[dict]:
        others = [start(leg, contrast) for leg in ("fresh", "direct", "features")] if contrast else []
        processes = [start("shared", renders), *others]
        return [finish(process) for process in processes]

    print(
        f"running: shared-font-config leg, {renders} renders"
        + (f"; alongside it the fresh, direct and features legs, {contrast} renders each" if contrast else ""),
        flush=True,
    )
    started = time.perf_counter()
    shared, fresh, direct, features = [*common.retrying("memory legs", legs), None, None, None][:4]
    elapsed = time.perf_counter() - started

    print()
    print("results")
    report("shared FontConfiguration (run_many, as a build worker)", shared)
    if fresh:
        report("new FontConfiguration per render (weasyprint directly)", fresh)
        report("control: one FontConfiguration (weasyprint directly)", direct)
        report("font-variant-numeric set by a property (weasyprint directly, one FontConfiguration)", features)
    print(
        f"  (the legs took {common.seconds(elapsed)} side by side; briefgen replaces a worker after "
        f"RENDERS_PER_WORKER = {RENDERS_PER_WORKER} renders)"
    )
    print()
    growth = shared["peak_end"] / shared["peak_base"] - 1
    print(
        f"peak RSS growth, renders {baseline_at} -> {shared['renders']}, shared config: {growth:+.1%}"
        f"  (target < {TARGET:.0%})  {'MET' if growth < TARGET else 'NOT MET'}"
    )
    if fresh:
        contrasts = (
            ("new config per render", fresh),
            ("control (weasyprint, one config)", direct),
            ("font features by property", features),
        )
        for name, result in contrasts:
            leg_growth = result["peak_end"] / result["peak_base"] - 1
            per = (result["peak_end"] - result["peak_base"]) / (result["renders"] - baseline_at)
            print(
                f"peak RSS growth, renders {baseline_at} -> {result['renders']}, {name}:"
                f" {leg_growth:+.1%}  (contrast, no target; {per:.0f} KiB per render)"
            )
    print(f"load average at the end: {common.load_average()}")


def report(title: str, result: dict) -> None:
    per = (result["peak_end"] - result["peak_base"]) / (result["renders"] - result["baseline_at"])
    print(
        f"  {title}: {result['renders']} renders in {common.seconds(result['seconds'])}"
        f" ({result['seconds'] / result['renders']:.2f} s/render)"
    )
    print(
        f"    peak RSS (ru_maxrss): after render {result['baseline_at']} {common.mib(result['peak_base'])},"
        f" at the end {common.mib(result['peak_end'])}  ({per:+.0f} KiB per render after the baseline)"
    )
    print(
        f"    current RSS (VmRSS):  after render {result['baseline_at']} {common.mib(result['now_base'])},"
        f" at the end {common.mib(result['now_end'])}"
    )
    trail = ", ".join(f"{n}: {kib / 1024:.0f}" for n, kib in result["trail"])
    print(f"    VmRSS MiB by render: {trail}")


def child(leg: str, root: Path, renders: int, baseline_at: int) -> None:
    """Render the sample `renders` times in this process; report RSS after render baseline_at and at the end."""
    source = root / "sources" / "brief-001.yaml"
    if leg == "shared":
        from briefgen.batch import RenderTask, close_copies, prepare_worker, run_many
        from briefgen.pipeline import Format, Project

        task = RenderTask(source, Project.open(root), (Format.PDF,))
        prepare_worker()
        settle = close_copies

        def render() -> None:  # as a build worker renders
            result = run_many(task)
            if result.rendered is None:
                raise SystemExit("\n".join(map(str, result.errors)))
    else:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        html = common.print_html(source, root)
        if leg == "features":
            numerals = "<style>body { font-variant-numeric: oldstyle-nums proportional-nums; }</style>"
            html = html.replace("</head>", numerals + "</head>", 1)
        base_url = root.resolve().as_uri() + "/"
        shared_config = FontConfiguration()
        settle = None

        def render() -> None:
            font_config = FontConfiguration() if leg == "fresh" else shared_config
            document = weasyprint.HTML(string=html, base_url=base_url).render(font_config=font_config, pdf_tags=True)
            document.write_pdf(pdf_tags=True)

    trail = [(0, common.rss_now_kib())]
    started = time.perf_counter()
    for number in range(1, renders + 1):
        render()
        if number == baseline_at:
            peak_base, now_base = common.rss_peak_kib(), common.rss_now_kib()
        if number % SAMPLE_EVERY == 0 or number in (1, baseline_at, renders):
            trail.append((number, common.rss_now_kib()))
    if settle is not None:  # the last copy's peak counts once it has ended
        settle()
    common.emit_result(
        {
            "renders": renders,
            "baseline_at": baseline_at,
            "seconds": time.perf_counter() - started,
            "peak_base": peak_base,
            "now_base": now_base,
            "peak_end": common.rss_peak_kib(),
            "now_end": common.rss_now_kib(),
            "trail": trail,
        }
    )


if __name__ == "__main__":
    main()
