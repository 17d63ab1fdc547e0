"""Stage 4, render HTML: lay an analysed assessment out through Jinja2 templates.

Templates are looked up in the project's ``templates/`` first, then in
briefgen's built-in templates, so an editor overrides any file by giving one of
the same name. Templates run in Jinja2's immutable sandbox, autoescaping is
always on and undefined names are errors. A
mistake in a template is reported with the template's file and line.
"""

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from types import TracebackType

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from briefgen import __version__
from briefgen.analyse import Analysis
from briefgen.errors import BriefgenError, Diagnostic, display_path
from briefgen.prose import prose, prose_inline

ENTRY_TEMPLATE = "brief.html.j2"
PACKAGE_DIR = Path(__file__).resolve().parent


def builtin_templates_dir() -> Path:
    """briefgen's own templates: inside the package when installed from a wheel, else the repository's."""
    packaged = PACKAGE_DIR / "templates"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "templates"


def template_search_path(project_dir: Path) -> list[Path]:
    """Where templates are looked up, first match winning: the project's, then the built-ins."""
    candidates = [project_dir / "templates", builtin_templates_dir()]
    unique: list[Path] = []
    for candidate in candidates:
        resolved = candidate.resolve()
        if resolved.is_dir() and resolved not in unique:
            unique.append(resolved)
    return unique


def make_environment(search_path: Sequence[Path]) -> jinja2.Environment:
    """A sandboxed Jinja2 environment with autoescaping, strict undefined names and briefgen's filters.

    The sandbox keeps an editor's template from reaching Python internals or changing the data.
    """
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(path) for path in search_path]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(prose=prose, prose_inline=prose_inline, long_date=long_date)
    env.globals.update(
        stylesheet=lambda name: _stylesheet(env, name),
        asset_url=lambda name: _asset_url(search_path, name),
        generator=f"briefgen {__version__}",
    )
    return env


class Medium(StrEnum):
    """What the HTML is for: a standalone page for screens, or the input of the PDF printer."""

    SCREEN = "screen"
    PRINT = "print"


def render_html(analysis: Analysis, env: jinja2.Environment, medium: Medium) -> str:
    """Render the brief's HTML document; raise BriefgenError naming the template and line on a mistake."""
    try:
        template = env.get_template(ENTRY_TEMPLATE)
        return template.render(analysis=analysis, assessment=analysis.assessment, medium=str(medium))
    except jinja2.TemplateSyntaxError as exc:
        raise BriefgenError(
            [Diagnostic(_shown(exc.filename, exc.name), f"template error: {exc.message}", exc.lineno)]
        ) from None
    except jinja2.TemplateNotFound as exc:
        where = _template_frame(exc.__traceback__, env)
        filename, line = where if where else (ENTRY_TEMPLATE, None)
        message = f"template '{exc.name}' not found in {_path_list(env)}"
        raise BriefgenError([Diagnostic(_shown(filename, None), message, line)]) from None
    except Exception as exc:
        where = _template_frame(exc.__traceback__, env)
        if where is None:
            raise
        filename, line = where
        raise BriefgenError([Diagnostic(display_path(Path(filename)), f"template error: {exc}", line)]) from None


def long_date(value: dt.date) -> str:
    """A date as readers write it, e.g. '8 November 2018'."""
    return f"{value.day} {value:%B %Y}"


def _stylesheet(env: jinja2.Environment, name: str) -> Markup:
    """The text of a stylesheet found on the template search path, for inlining in a <style> element."""
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return Markup(source.replace("</", "<\\/"))


def _asset_url(search_path: Sequence[Path], name: str) -> Markup:
    """The file URL of an asset (font, image) found on the template search path, for the PDF printer."""
    for folder in search_path:
        candidate = (folder / name).resolve()
        if candidate.is_relative_to(folder.resolve()) and candidate.is_file():
            return Markup(candidate.as_uri())
    raise jinja2.TemplateError(f"asset '{name}' not found in " + ", ".join(display_path(p) for p in search_path))


def _template_frame(traceback: TracebackType | None, env: jinja2.Environment) -> tuple[str, int] | None:
    """The innermost template file and line in a traceback, if the error arose in a template."""
    roots = (
        tuple(str(path) for path in env.loader.searchpath) if isinstance(env.loader, jinja2.FileSystemLoader) else ()
    )
    found = None
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if filename.startswith(roots):
            found = (filename, traceback.tb_lineno)
        traceback = traceback.tb_next
    return found


def _shown(filename: str | None, name: str | None) -> str:
    return display_path(Path(filename)) if filename else (name or ENTRY_TEMPLATE)


def _path_list(env: jinja2.Environment) -> str:
    paths = env.loader.searchpath if isinstance(env.loader, jinja2.FileSystemLoader) else []
    return ", ".join(display_path(Path(path)) for path in paths)
