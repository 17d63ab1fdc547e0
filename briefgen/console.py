"""What `briefgen build` and `briefgen distribute` show in a terminal: progress bars, a line per brief, a
summary table.

Only the command line imports this module (and rich with it).
"""

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from briefgen.errors import Diagnostic, display_path
from briefgen.publish import INDEX_NAME, BriefResult, Status

if TYPE_CHECKING:  # a build has no use for distribute's module, and should not wait for its import
    from briefgen.distribute import Removal, Stage

# by the name of each distribute.Stage and distribute.Removal
STAGE_LABELS = {"RENDERING": "rendering briefs", "STAMPING": "stamping copies", "BUNDLING": "bundling"}
REMOVAL_LINES = {
    "RECIPIENT_GONE": "removed {} of recipients no longer on the list",
    "FILE_RENAMED": "replaced {} of recipients still on the list under a new file name",
    "BRIEF_GONE": "removed {} of briefs no longer distributed",
    "UNLISTED": "removed {} that no manifest listed, left by a run that did not finish",
}


class BuildReporter:
    """Reports a build as its briefs finish; quiet keeps only errors and the one-line summary.

    The progress bar moves as each brief finishes, but the lines that stay (a brief's errors, warnings and
    outcome) are printed in the build's order, each once the briefs before it are reported: the same inputs
    give the same report, whichever worker finishes first.
    """

    def __init__(self, total: int, quiet: bool) -> None:
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.counts = dict.fromkeys(Status, 0)
        self.pages = 0
        self.warnings = 0
        # diagnostics already printed, and the brief each was first printed for: a broken theme or template
        # fails every brief
        self.shown: dict[str, str] = {}
        self.waiting: dict[int, BriefResult] = {}  # finished, not yet reported: a brief before it is still running
        self.next_position = 0
        self.started = time.monotonic()
        self.progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.err,
            refresh_per_second=2,  # a redraw costs this process's CPU, which the workers' renders need
            transient=True,
            disable=quiet or not self.err.is_terminal,
        )
        self.task = self.progress.add_task("rendering", total=total)

    def __enter__(self) -> "BuildReporter":
        self.progress.start()
        return self

    def __exit__(self, kind: type | None, value: BaseException | None, traceback: TracebackType | None) -> None:
        with _unless_stopping(kind):
            self.progress.stop()
            self._report_waiting()

    def __call__(self, result: BriefResult) -> None:
        """Count a finished brief, and report it and those after it that are waiting only for it."""
        self.counts[result.status] += 1
        self.progress.advance(self.task)
        self.waiting[result.position] = result
        while self.next_position in self.waiting:
            self._report(self.waiting.pop(self.next_position))
            self.next_position += 1

    def _report_waiting(self) -> None:
        """Report, in order, the briefs held back for one that never came (the build was stopped)."""
        for position in sorted(self.waiting):
            self._report(self.waiting.pop(position))

    def _report(self, result: BriefResult) -> None:
        if result.status is Status.FAILED:
            source = display_path(result.source)
            texts = list(dict.fromkeys(map(str, result.errors)))
            earlier = [self.shown[text] for text in texts if text in self.shown]
            self.diagnostics(result.errors, source)
            if not earlier:
                note = ""
            elif len(earlier) == len(texts):
                note = f" (the same error as {earlier[0]}, above)"
            else:
                note = f" (and the error shown above for {earlier[0]})"
            self.err.print(f"failed  {source}{note}", markup=False)
            return
        entry = result.entry or {}
        warnings = entry.get("warnings", [])
        self.warnings += len(warnings)
        outputs = entry.get("outputs", {})
        built = result.status is Status.BUILT
        shown = {name: output for name, output in outputs.items() if not built or name in result.rendered}
        pages = shown.get("pdf", {}).get("pages", 0)
        self.pages += pages
        if self.quiet:
            return
        for warning in warnings:
            self.err.print(warning, markup=False)
        paths = ", ".join(output["path"] for output in shown.values())
        suffix = f" ({pages} page{'' if pages == 1 else 's'})" if pages else ""
        kept = [output["path"] for name, output in outputs.items() if name not in shown]
        suffix += f"; kept {', '.join(kept)}, still up to date" if kept else ""
        label = "built  " if built else "skipped"
        self.out.print(f"{label} {entry.get('id')}: {paths}{suffix}", markup=False)

    def config_warnings(self, warnings: tuple[Diagnostic, ...]) -> None:
        """Print the config's warnings (unless quiet) and count them with the briefs'."""
        self.warnings += len(warnings)
        if not self.quiet:
            self.diagnostics(warnings)

    def removed(self, brief_ids: list[str]) -> None:
        """Say whose outputs a build deleted because their sources are gone."""
        if not self.quiet:
            briefs = "1 brief" if len(brief_ids) == 1 else f"{len(brief_ids)} briefs"
            message = f"removed the outputs of {briefs} whose source is gone: {', '.join(brief_ids)}"
            self.out.print(message, markup=False)

    def outdated(self, paths: list[str]) -> None:
        """Say which outputs, in formats this build did not render, a build deleted as out of date."""
        if not self.quiet:
            outputs = "1 output" if len(paths) == 1 else f"{len(paths)} outputs"
            message = f"removed {outputs} out of date in a format not built this time: {', '.join(paths)}"
            self.out.print(message, markup=False)

    def changed_during_build(self, count: int) -> None:
        """Warn, even when quiet, that some briefs saw their files change as they were built."""
        briefs = "1 brief" if count == 1 else f"{count} briefs"
        message = f"warning: files changed while the build ran; {briefs} rendered since will be built again next time"
        self.err.print(message, markup=False)

    def summary(self, manifest: Path, catalogue_failed: bool = False) -> None:
        """The table of counts (unless quiet) and the one-line summary, which says where the manifest is and
        whether the catalogue page could not be written."""
        self._report_waiting()
        seconds = time.monotonic() - self.started
        counts = ", ".join(f"{self.counts[status]} {status}" for status in Status)
        if not self.quiet:
            table = Table(title="build summary", title_justify="left")
            for column in ("built", "skipped", "failed", "warnings", "pages", "time"):
                table.add_column(column, justify="right")
            row = [str(self.counts[s]) for s in Status] + [str(self.warnings), str(self.pages), f"{seconds:.1f} s"]
            table.add_row(*row)
            self.out.print(table)
        missing = f"; no catalogue page ({INDEX_NAME}): see the error above" if catalogue_failed else ""
        self.out.print(f"{counts}; manifest in {display_path(manifest)}{missing}", markup=False)

    def diagnostics(self, diagnostics: tuple[Diagnostic, ...], brief: str = "") -> None:
        """Print the diagnostics not printed before in this build, noting the brief they were printed for."""
        for text in dict.fromkeys(str(diagnostic) for diagnostic in diagnostics):
            if text not in self.shown:
                self.err.print(text, markup=False)
                self.shown[text] = brief


class DistributionReporter:
    """Reports a distribution: a line saying what it will make, then on a terminal a bar for each stage
    (rendering, stamping, bundling) with its counts, the time it has taken and an estimate of the time left,
    moved as results come back. Quiet keeps only errors and the caller's last line; off a terminal there
    are no bars.
    """

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.plan = ""
        terminal = Console(stderr=True)
        self.progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=terminal,
            refresh_per_second=2,  # a redraw costs about 1.5 ms of this process's CPU: 0.3% at this pace
            redirect_stdout=False,  # nothing goes to stdout while the bars show: it is not theirs to take
            disable=quiet or not terminal.is_terminal,
        )
        self.stages: dict[Stage, TaskID] = {}

    def __enter__(self) -> "DistributionReporter":
        return self

    def __exit__(self, kind: type | None, *_: object) -> None:
        with _unless_stopping(kind):
            self.progress.stop()  # the bars stay on the terminal as they stood: where a stopped run had got to

    def planned(self, briefs: int, editions: int, recipients: int) -> None:
        """Keep the line saying what the distribution will make, shown once its work starts."""
        shown = f"distributing {_count(briefs, 'brief')} to {_count(recipients, 'recipient')}"
        shown += f" in {editions} editions" if editions > 1 else ""
        self.plan = f"{shown}: {_count(briefs * recipients, 'copy', 'copies')}, {_count(recipients, 'bundle')}"

    def __call__(self, stage: "Stage", done: int, total: int) -> None:
        """Move the stage's bar to done of total; the first stage to start prints the plan first."""
        if stage not in self.stages:
            if not self.stages and not self.quiet:
                print(self.plan, flush=True)
                self.progress.start()
            self.stages[stage] = self.progress.add_task(STAGE_LABELS[stage.name], total=total)
        self.progress.update(self.stages[stage], completed=done)

    def warning(self, diagnostic: Diagnostic) -> None:
        """Print a warning (of the config, the recipients or a brief), unless quiet."""
        if not self.quiet:
            print(diagnostic, file=sys.stderr)  # above the bars: rich takes stderr while they show

    def removed(self, removed: dict["Removal", list[str]]) -> None:
        """A line for each reason the distribution deleted copies and bundles for, with how many (unless quiet).
        It comes once every stage is done: the bars stop first."""
        self.progress.stop()
        if self.quiet:
            return
        for why, paths in removed.items():
            bundles = sum(path.startswith("bundles/") for path in paths)
            copies = len(paths) - bundles
            counts = [_count(copies, "copy", "copies")] if copies else []
            counts += [_count(bundles, "bundle")] if bundles else []
            print(REMOVAL_LINES[why.name].format(" and ".join(counts)))


@contextlib.contextmanager
def _unless_stopping(kind: type | None) -> Iterator[None]:
    """The block, whose failure to write to the terminal (one that hung up gives OSError) is ignored while an
    exception stops the command: that exception (a hang-up's own, say) decides how it ends."""
    try:
        yield
    except OSError:
        if kind is None:
            raise


def _count(number: int, unit: str, units: str = "") -> str:
    """'1 brief', '25,000 copies'."""
    return f"{number:,} {unit if number == 1 else units or unit + 's'}"
