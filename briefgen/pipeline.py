"""The data flow in one place: load, validate, analyse, render HTML, print PDF.

This is briefgen's Python API; the command line calls it and adds nothing.
Each function hands its result forward; nothing here writes to disk.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from briefgen.analyse import analyse
from briefgen.errors import BriefgenError, Diagnostic, display_path
from briefgen.load import load_source
from briefgen.render_html import (
    PACKAGE_DIR,
    Medium,
    builtin_templates_dir,
    make_environment,
    render_html,
    template_search_path,
)
from briefgen.validate import ValidatedAssessment, validate


class Format(StrEnum):
    PDF = "pdf"
    HTML = "html"


@dataclass(frozen=True)
class Project:
    """A brief project: a folder with ``sources/`` and optionally ``templates/``.

    ``allowed_hosts`` lists the only web hosts rendering may fetch from (none by default).
    """

    root: Path
    allowed_hosts: tuple[str, ...] = ()

    @property
    def sources_dir(self) -> Path:
        return self.root / "sources"

    def sources(self) -> list[Path]:
        """Every source of the project, in a stable order."""
        return sorted(self.sources_dir.glob("*.yaml"))

    @property
    def allowed_roots(self) -> list[Path]:
        """The only folders rendering may read from: the project and briefgen's own files."""
        return [self.root, PACKAGE_DIR, builtin_templates_dir()]


@dataclass(frozen=True)
class RenderedBrief:
    """One brief rendered in memory, ready to publish."""

    brief_id: str
    source: Path
    outputs: dict[Format, bytes]
    pages: int | None
    warnings: tuple[Diagnostic, ...] = field(default=())


def read_assessment(path: Path) -> ValidatedAssessment:
    """Load and validate one source; raise BriefgenError with every problem in it."""
    return validate(load_source(path))


def render_brief(path: Path, project: Project, formats: Collection[Format] = tuple(Format)) -> RenderedBrief:
    """Render one source to every requested format, in memory."""
    validated = read_assessment(path)
    analysis = analyse(validated)
    env = make_environment(template_search_path(project.root))
    outputs: dict[Format, bytes] = {}
    pages = None
    if Format.HTML in formats:
        outputs[Format.HTML] = render_html(analysis, env, Medium.SCREEN).encode("utf-8")
    if Format.PDF in formats:
        from briefgen.print_pdf import print_pdf  # WeasyPrint loads only when a PDF is wanted

        html = render_html(analysis, env, Medium.PRINT)
        printed = print_pdf(
            html,
            base_dir=project.root,
            allowed_roots=project.allowed_roots,
            allowed_hosts=project.allowed_hosts,
            shown_as=display_path(path),
        )
        outputs[Format.PDF] = printed.data
        pages = printed.pages
    return RenderedBrief(validated.brief_id, path, outputs, pages, validated.warnings)


def format_for(output: Path) -> Format:
    """The format an output path asks for, by its suffix."""
    try:
        return Format(output.suffix.lower().lstrip("."))
    except ValueError:
        choices = ", ".join(f".{f}" for f in Format)
        raise BriefgenError(
            [Diagnostic(str(output), f"cannot tell the format from the suffix; use one of {choices}")]
        ) from None
