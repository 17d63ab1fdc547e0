"""Diagnostics for mistakes in the user's input, kept apart from bugs in briefgen."""

import contextlib
import contextvars
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a user's file, located like a compiler's message."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        place = ":".join(str(part) for part in (self.path, self.line, self.column) if part is not None)
        return f"{place}: {self.severity}: {self.message}"


class BriefgenError(Exception):
    """A mistake in the user's input (source, template, options), with every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(diagnostic) for diagnostic in self.diagnostics))


class UsageError(BriefgenError):
    """A command used wrongly: an option or argument briefgen cannot take (exit status 2)."""


# The folder paths are shown from: the user's working directory, also for work done on a cluster's workers.
_shown_from: contextvars.ContextVar[Path | None] = contextvars.ContextVar("shown_from", default=None)


def display_path(path: Path) -> str:
    """The path as the user should see it: relative to the working directory when inside it."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(_shown_from.get() or Path.cwd()))
    except ValueError:
        return str(path)


@contextlib.contextmanager
def paths_shown_from(folder: Path) -> Iterator[None]:
    """Show paths relative to folder (the user's working directory) instead of this process's."""
    token = _shown_from.set(folder)
    try:
        yield
    finally:
        _shown_from.reset(token)


def system_refusal(exc: OSError) -> str:
    """What the system refused, from an OSError that is the machine's doing rather than the input's (a full
    disk, a limit on file size, a folder not writable): its reason, and its file when it names one."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    reason = reason[:1].lower() + reason[1:]
    return f"{exc.filename}: {reason}" if exc.filename else reason
