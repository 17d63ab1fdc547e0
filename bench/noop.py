"""Incremental builds: a full build of N briefs (html and pdf), then a rebuild with nothing to do.

The no-op rebuild must skip every brief (the benchmark checks the "N skipped" line; if a template
changed in between, as when someone edits the templates during the run, it measures the pair again)
and should cost a small fraction of the full build: target no-op/full < 5%.

    python bench/noop.py [--n 20] [--keep]
"""

import argparse
import time

import common

TARGET = 0.05


class NotANoop(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="briefs to build (default 20)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    args = parser.parse_args()

    common.print_machine(f"noop: full build of {args.n} briefs (html+pdf), then a no-op rebuild")
    root = common.make_project(args.n)
    try:
        measure(root, args.n)
    finally:
        common.remove_project(root, args.keep)


def measure(root, n: int) -> None:
    briefgen = common.tool("briefgen")
    command = [briefgen, "build"]
    print(
        f"running: {' '.join(command)}  (a full build, then 3 no-op rebuilds; jobs = {common.default_jobs()})",
        flush=True,
    )

    from briefgen.incremental import shared_digest
    from briefgen.pipeline import Project

    project = Project.open(root)

    def pair() -> tuple[common.Timed, common.Timed, list[common.Timed]]:
        (root / "build" / "manifest.json").unlink(missing_ok=True)  # a retry starts from an empty build again
        digest = shared_digest(project)  # templates, fonts, config, versions: what every brief depends on
        full = common.run(command, root)
        if common.build_counts(full.stdout).get("built") != n:
            raise common.CommandFailed(command, 0, full.stdout, f"full build: {common.build_counts(full.stdout)}")
        noops = []
        for _ in range(3):  # the first no-op is the measurement; two more show how steady it is
            noop = common.run(command, root)
            counts = common.build_counts(noop.stdout)
            if counts.get("skipped") != n:
                if shared_digest(project) == digest:
                    # Nothing changed, yet briefs were rendered again: a briefgen bug, worth reporting as is.
                    print(f"WARNING: the rebuild did not skip every brief though no input changed: {counts}")
                else:
                    raise NotANoop(f"the rebuild did not skip every brief: {counts}")
            noops.append(noop)
        return full, noops[0], noops

    for attempt in range(1, common.RETRIES + 1):
        try:
            full, noop, noops = common.retrying("full build", pair)
            break
        except NotANoop as exc:
            if attempt == common.RETRIES:
                raise
            print(f"[{exc}: the templates changed meanwhile; measuring again in {common.RETRY_PAUSE:.0f} s]")
            time.sleep(common.RETRY_PAUSE)

    version = common.run([briefgen, "--version"], root)
    ratio = noop.wall / full.wall
    print()
    print("results")
    print(f"  full build, {n} briefs html+pdf: {common.seconds(full.wall)} wall, {common.seconds(full.cpu)} CPU")
    print(
        f"  no-op rebuild ({n} skipped):      {common.seconds(noop.wall)} wall, {common.seconds(noop.cpu)} CPU"
        f"  (again: {', '.join(f'{t.wall:.2f}' for t in noops[1:])} s)"
    )
    print(f"  `briefgen --version` (interpreter and CLI start-up): {common.seconds(version.wall)}")
    print()
    print(f"no-op / full: {ratio:.1%}  (target < {TARGET:.0%})  {'MET' if ratio < TARGET else 'NOT MET'}")
    print(f"load average at the end: {common.load_average()}")


if __name__ == "__main__":
    main()
