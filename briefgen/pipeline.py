"""The data flow in one place: load, validate, analyse, render HTML, print PDF.

This is briefgen's Python API; the command line calls it and adds nothing.
Each function hands its result forward; nothing here writes to disk.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from briefgen.analyse import Analysis, analyse
from briefgen.catalogue import catalogue
from briefgen.config import CONFIG_NAME, ProjectConfig, is_host_name, load_config
from briefgen.errors import BriefgenError, Diagnostic, Severity, UsageError, display_path
from briefgen.formats import Format
from briefgen.labels import format_date, load_labels
from briefgen.load import brief_id, load_source
from briefgen.models import suggestion
from briefgen.render_html import (
    STAMP_FONT,
    Medium,
    Presentation,
    Stylesheet,
    find_asset,
    make_environment,
    render_catalogue,
    render_html,
    render_stamp_sheet,
    unknown_blocks,
)
from briefgen.stamp_font import StampLetters
from briefgen.stamp_text import Stamp
from briefgen.theming import (
    available_themes,
    check_templates_confined,
    leads_out_of,
    link_out_of_project,
    no_such_theme,
    readable_roots,
    search_path_of,
    theme_chain,
    theme_names,
)
from briefgen.validate import ValidatedAssessment, validate

SOURCES_ADVICE = "briefgen reads a file outside the project only when you name it"


@dataclass(frozen=True)
class Project:
    """A brief project: a folder with ``sources/``, and optionally ``templates/`` and ``briefgen.yaml``.

    ``theme`` overrides the theme of every brief; ``allowed_hosts`` adds to the config's web hosts.
    ``config_warnings`` are what checking the config found that does not stop it (the commands print them
    once); ``renamed_fonts`` the config's font files printed under its family names (see print_pdf).
    """

    root: Path
    config: ProjectConfig = field(default_factory=ProjectConfig)
    theme: str | None = None
    extra_hosts: tuple[str, ...] = ()
    config_warnings: tuple[Diagnostic, ...] = ()
    renamed_fonts: tuple[tuple[str, str], ...] = ()

    @classmethod
    def open(cls, root: Path | str, theme: str | None = None, allow_hosts: Collection[str] = ()) -> "Project":
        """The project in root, with its config read and checked; UsageError for a theme it lacks or a host
        that is not a host name; BriefgenError for a broken config or templates/ linking out of the project."""
        root = Path(root)
        check_templates_confined(root)
        if target := leads_out_of(root / CONFIG_NAME, root):
            advice = "the config is read only from inside the project: copy the file here in place of the link"
            raise BriefgenError([link_out_of_project(root / CONFIG_NAME, target, advice)])
        loaded = load_config(root)
        if theme is not None and theme not in (themes := theme_names(root)):
            raise UsageError([Diagnostic("briefgen", f"--theme: {no_such_theme(theme, themes, root)}")])
        if bad := [host for host in allow_hosts if not is_host_name(host)]:
            hint = "--allow-host takes a host name such as example.org, not a URL"
            raise UsageError(
                [Diagnostic("briefgen", f"--allow-host: '{host}' is not a host name; {hint}") for host in bad]
            )
        return cls(root, loaded.config, theme, tuple(allow_hosts), loaded.warnings, loaded.renamed_fonts)

    @property
    def sources_dir(self) -> Path:
        return self.root / "sources"

    def sources(self) -> list[Path]:
        """Every source of the project, in a stable order; BriefgenError when sources/, or a source in it,
        links out of the project (a file named on the command line instead is read wherever it is)."""
        if target := leads_out_of(self.sources_dir, self.root):
            advice = f"{SOURCES_ADVICE}: put the folder itself in the project, or name its files on the command line"
            raise BriefgenError([link_out_of_project(self.sources_dir, target, advice)])
        found = sorted(self.sources_dir.glob("*.yaml"))
        targets = {path: target for path in found if (target := leads_out_of(path, self.root))}
        if targets:
            where = display_path(self.sources_dir)
            advice = f"{SOURCES_ADVICE}: copy the file into {where}/, or name it on the command line"
            raise BriefgenError([link_out_of_project(path, target, advice) for path, target in targets.items()])
        return found

    @property
    def allowed_roots(self) -> list[Path]:
        """The only folders rendering may read from: the project and briefgen's own files."""
        return list(readable_roots(self.root))

    def check_edition(self, edition: str | None) -> None:
        """Refuse, as bad usage, an edition the config does not define (None, the full brief, is always fine)."""
        if edition is not None and edition not in self.config.editions:
            known = ", ".join(self.config.editions)
            hint = suggestion(edition, self.config.editions) or f"; the project's editions are: {known}"
            raise UsageError([Diagnostic("briefgen", f"--edition: unknown edition '{edition}'{hint}")])

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        return (*self.config.network.allow_hosts, *self.extra_hosts)


@dataclass(frozen=True)
class RenderedBrief:
    """One brief rendered in memory, ready to publish."""

    brief_id: str
    edition: str | None
    source: Path
    outputs: dict[Format, bytes]
    pages: int | None
    summary: "BriefSummary"
    warnings: tuple[Diagnostic, ...] = field(default=())
    files_read: tuple[Path, ...] = field(default=())
    themes: tuple[str, ...] = field(default=())  # rendered with: the theme and those it extends


@dataclass(frozen=True)
class BriefSummary:
    """What a catalogue of briefs shows of one: title, series, date, language and its bottom line."""

    title: str
    series: str
    published: str  # ISO 8601
    language: str
    bottom_line: str
    published_text: str  # as the brief writes it, e.g. "16 November 2018" (formatted here, not by the catalogue)


def distinct_sources(sources: Sequence[Path]) -> list[Path]:
    """The sources as absolute paths (worker processes and cluster nodes have working directories of their
    own), any file given twice dropped; BriefgenError when two files share a brief id, whose outputs would
    overwrite each other."""
    unique: dict[Path, Path] = {}
    for source in sources:
        unique.setdefault(source.resolve(), source.absolute())
    first: dict[str, Path] = {}
    clashes = []
    for source in unique.values():
        if (earlier := first.setdefault(brief_id(source), source)) is not source:
            message = (
                f"the same brief id, '{brief_id(source)}', as {display_path(earlier)}: their outputs would "
                "overwrite each other; rename one"
            )
            clashes.append(Diagnostic(display_path(source), message))
    if clashes:
        raise BriefgenError(clashes)
    return list(unique.values())


def read_assessment(path: Path | str, project: Project | None = None) -> ValidatedAssessment:
    """Load and validate one source; raise BriefgenError with every problem in it.

    With a project, a theme the brief names must be one the project has.
    """
    path = Path(path)
    if project is None:
        return validate(load_source(path))
    known = {"theme": list(available_themes(project.root)), "edition": list(project.config.editions)}
    return validate(load_source(path), known)


def render_brief(
    path: Path | str, project: Project, formats: Collection[Format] = tuple(Format), edition: str | None = None
) -> RenderedBrief:
    """Render one source to every requested format, in memory: the full brief, or one edition of it."""
    path = Path(path)
    validated, analysis, env, presentation = _prepared(path, project, edition)
    brief = validated.assessment.brief
    outputs: dict[Format, bytes] = {}
    pages = None
    style_warnings: tuple[Diagnostic, ...] = ()
    files_read: list[Path] = []
    if Format.HTML in formats:
        outputs[Format.HTML] = render_html(analysis, env, Medium.SCREEN, presentation, files_read).encode("utf-8")
    if Format.PDF in formats:
        from briefgen.print_pdf import print_pdf  # WeasyPrint loads only when a PDF is wanted

        stylesheets: list[Stylesheet] = []
        html = render_html(analysis, env, Medium.PRINT, presentation, files_read, stylesheets)
        printed = print_pdf(
            html,
            stylesheets=stylesheets,
            base_dir=project.root,
            allowed_roots=project.allowed_roots,
            allowed_hosts=project.allowed_hosts,
            shown_as=display_path(path),
            renamed_fonts=tuple(((project.root / file).resolve(), family) for file, family in project.renamed_fonts),
        )
        outputs[Format.PDF] = printed.data
        pages = printed.pages
        files_read.extend(printed.files_read)
        style_warnings = printed.warnings
    summary = BriefSummary(
        brief.title,
        brief.series,
        brief.published.isoformat(),
        presentation.language,
        validated.assessment.bottom_line,
        format_date(brief.published, presentation.labels),
    )
    warnings = (*validated.warnings, *unknown_blocks(env), *style_warnings, *_over_budget(path, pages, presentation))
    files = tuple(dict.fromkeys(files_read))
    return RenderedBrief(
        validated.brief_id, edition, path, outputs, pages, summary, warnings, files, presentation.themes
    )


def _over_budget(path: Path, pages: int | None, presentation: Presentation) -> list[Diagnostic]:
    """A warning when the PDF runs to more pages than its theme allows (theme.yaml's `pages`)."""
    budget = presentation.page_budget
    if pages is None or budget is None or pages <= budget:
        return []
    allowed = "1 page" if budget == 1 else f"{budget} pages"
    message = (
        f"the PDF runs to {pages} pages, over the {allowed} the theme '{presentation.theme}' is meant for; "
        "shorten the brief or choose a longer theme"
    )
    return [Diagnostic(display_path(path), message, severity=Severity.WARNING)]


def print_html(path: Path, project: Project, edition: str | None = None) -> str:
    """The HTML a brief's PDF is laid out from, with its styles inline: what the `weasyprint` command
    would be given to print the brief as render_brief does."""
    _, analysis, env, presentation = _prepared(path, project, edition)
    return render_html(analysis, env, Medium.PRINT, presentation)


def _prepared(
    path: Path, project: Project, edition: str | None
) -> tuple[ValidatedAssessment, Analysis, jinja2.Environment, Presentation]:
    """Load, validate and analyse one source, and choose the templates and words it renders with."""
    project.check_edition(edition)
    validated = read_assessment(path, project)
    brief = validated.assessment.brief
    return validated, analyse(validated, edition), *_presentation(project, brief.theme, brief.language)


def render_index(briefs: Sequence[Mapping[str, Any]], project: Project) -> str:
    """The catalogue page of a build folder, in the project's theme and language."""
    env, presentation = _presentation(project)
    listed = [brief for brief in briefs if "summary" in brief]
    return render_catalogue(catalogue(listed, presentation.language), listed, env, presentation)


def print_stamps(stamps: Sequence[Stamp], project: Project) -> bytes:
    """A PDF of copy stamps in the project's paper size: first a page of the stamp font's repertoire (not a
    stamp), then one page per stamp (the recipient, shortened when too long, and the copy id).

    Untagged: a stamp is laid over a brief's pages as an artifact, outside the brief's structure.
    """
    from briefgen.print_pdf import print_pdf

    env, presentation = _presentation(project)
    stylesheets: list[Stylesheet] = []
    html = render_stamp_sheet(stamps, env, presentation, stylesheets)
    printed = print_pdf(
        html,
        stylesheets=stylesheets,
        base_dir=project.root,
        allowed_roots=project.allowed_roots,
        shown_as="stamps",
        tagged=False,
    )
    return printed.data


def stamp_letters(project: Project) -> StampLetters:
    """The letters print_stamps can draw: its stamp font's, as the sheet finds it, or an installed font's."""
    chain = theme_chain(project.root, project.theme or project.config.theme)
    return StampLetters(find_asset(search_path_of(project.root, chain), STAMP_FONT))


def check_presentation(project: Project, theme: str | None = None, language: str | None = None) -> None:
    """Raise BriefgenError when the theme chain or the labels a brief of this theme and language would render
    with are broken, without rendering it."""
    _presentation(project, theme, language)


def _presentation(
    project: Project, theme: str | None = None, language: str | None = None
) -> tuple[jinja2.Environment, Presentation]:
    """The templates and words to render with: the command line's theme, else the brief's, else the config's."""
    chosen = project.theme or theme or project.config.theme
    chain = theme_chain(project.root, chosen)
    search_path = tuple(search_path_of(project.root, chain))
    labels = load_labels(search_path, language or project.config.language)
    presentation = Presentation(project.config, tuple(chain), labels)
    return make_environment(search_path, project.root.resolve()), presentation
