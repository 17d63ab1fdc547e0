"""Stage 4, render HTML: lay an analysed assessment out through Jinja2 templates.

Templates come from the search path of :mod:`briefgen.theming` (project, theme,
parent themes, built-ins), so an editor overrides any file by giving one of the
same name. Templates run in Jinja2's immutable sandbox, autoescaping is always
on and undefined names are errors. A mistake in a template is reported with the
template's file and line.
"""

import base64
import contextvars
import datetime as dt
import functools
import inspect
import itertools
import mimetypes
import re
import unicodedata
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import unquote, urljoin, urlsplit

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from briefgen import __version__
from briefgen.analyse import Analysis
from briefgen.catalogue import Catalogue
from briefgen.compiled_templates import KEPT_IN, CompiledTemplates
from briefgen.config import ProjectConfig
from briefgen.errors import BriefgenError, Diagnostic, Severity, display_path
from briefgen.labels import Labels, format_date
from briefgen.models import LIKELIHOOD_RANGES, suggestion
from briefgen.prose import ENGLISH_QUOTES, TEASER_LENGTH, prose, prose_inline, teaser, typographic
from briefgen.resources import MissingFile, RefusedResource, checked_file, folder_url, normalised, stylesheet_urls
from briefgen.stamp_text import Stamp
from briefgen.theming import Theme, builtin_templates_dir, page_budget, readable_roots

ENTRY_TEMPLATE = "brief.html.j2"
# The project files a render in progress has read through embed(), project_url() or a stylesheet's url()s.
_FILES_READ: contextvars.ContextVar[list[Path] | None] = contextvars.ContextVar("files_read", default=None)


class Stylesheet(NamedTuple):
    """A stylesheet the templates declared: where it comes from as shown to the user (a file, or a
    template's style block), its CSS, and the folder of its file, which its relative url()s resolve
    against (None for a style block, whose lines are not a file's)."""

    origin: str
    css: str
    folder: Path | None = None


# The style sheets of a render for the PDF printer, which parses each text once per process; None
# when the templates' styles go inline into the HTML as <style> elements.
_STYLESHEETS: contextvars.ContextVar[list[Stylesheet] | None] = contextvars.ContextVar("stylesheets", default=None)
STYLE_MEDIA = ("all", "print", "screen")
UNKNOWN_FILTER = re.compile(r"No filter named '([^']+)'\.")
UNCLOSED_BLOCK = re.compile(r"The innermost block that needs to be closed is '(\w+)'")
BLOCK_TAGS = ("for", "if", "block", "macro", "call", "filter", "with", "autoescape", "trans")  # those closed by endX
CATALOGUE_TEMPLATE = "index.html.j2"
STAMP_TEMPLATE = "stamp.html.j2"
STAMP_FONT = "fonts/NotoSans-Regular.ttf"  # on the template search path, as asset_url finds it
# What the stamp font of every personalised copy holds: Latin (ASCII, Latin-1, Extended-A), Greek,
# Cyrillic and the punctuation of names.
STAMP_REPERTOIRE = "".join(
    character
    for block in ((0x20, 0x7E), (0xA0, 0x17F), (0x370, 0x3FF), (0x400, 0x45F), (0x2010, 0x2026))
    for character in map(chr, range(block[0], block[1] + 1))
    if unicodedata.category(character) not in ("Cn", "Cc", "Cf", "Zl", "Zp")
)
MAX_EMBEDDED_BYTES = 1_000_000


class Medium(StrEnum):
    """What the HTML is for: a standalone page for screens, or the input of the PDF printer."""

    SCREEN = "screen"
    PRINT = "print"


@dataclass(frozen=True)
class Presentation:
    """How a brief is presented: the project's settings, the theme (with those it extends, nearest first),
    and the labels of its language."""

    config: ProjectConfig
    chain: tuple[Theme, ...]
    labels: Labels

    @property
    def theme(self) -> str:
        return self.chain[0].name

    @property
    def themes(self) -> tuple[str, ...]:
        return tuple(theme.name for theme in self.chain)

    @property
    def page_budget(self) -> int | None:
        """The most pages the theme is meant for (theme.yaml's `pages`, its own or inherited)."""
        return page_budget(self.chain)

    @property
    def language(self) -> str:
        return self.labels.language


class ConfinedLoader(jinja2.FileSystemLoader):
    """A file loader that reads only regular files inside its folders, after resolving symlinks, and inside
    the folders rendering may read (so not through a project's templates/ that links out of the project)."""

    def __init__(self, search_path: Sequence[Path], readable: Sequence[Path]) -> None:
        super().__init__([str(path) for path in search_path])
        self.readable = tuple(readable)

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except UnicodeDecodeError as exc:  # the file's own fault, not that of the template naming it
            path = _on_search_path(environment, template) or Path(template)
            line = exc.object[: exc.start].count(b"\n") + 1
            raise BriefgenError([Diagnostic(display_path(path), "not valid UTF-8; save it as UTF-8", line)]) from None
        resolved = Path(filename).resolve()
        if not any(resolved.is_relative_to(root) for root in self.readable):
            raise jinja2.TemplateError(f"'{template}' leads outside the project ({display_path(resolved)})")
        if not resolved.is_file() or not any(resolved.is_relative_to(root) for root in self.searchpath):
            raise jinja2.TemplateError(f"'{template}' leads outside the template folders ({display_path(resolved)})")
        return source, filename, uptodate


def _with_filter_hint(env: jinja2.Environment, message: str) -> str:
    """Jinja's message, with the filter meant when it says "No filter named 'tpyo'."."""
    if found := UNKNOWN_FILTER.fullmatch(message):
        return f"no filter named '{found.group(1)}'{suggestion(found.group(1), env.filters)}"
    return message


def _opening_hint(env: jinja2.Environment, exc: jinja2.TemplateSyntaxError) -> str:
    """For "The innermost block that needs to be closed is 'if'.", where that block was opened."""
    found = UNCLOSED_BLOCK.search(exc.message or "")
    if found is None or exc.source is None:
        return ""
    opened: list[tuple[str, int]] = []
    try:
        tokens = [token for token in env.lex(exc.source) if token[1] != "whitespace"]
    except jinja2.TemplateSyntaxError:
        return ""
    for (line, kind, _), (_, name_kind, name) in itertools.pairwise(tokens):
        if line >= (exc.lineno or line) or kind != "block_begin" or name_kind != "name":
            continue
        if name.startswith("end") and opened and opened[-1][0] == name[3:]:
            opened.pop()
        elif name in BLOCK_TAGS:
            opened.append((name, line))
    lines = [line for tag, line in opened if tag == found.group(1)]
    return f" (the '{found.group(1)}' on line {lines[-1]} is not closed)" if lines else ""


class _HintedUndefined(jinja2.StrictUndefined):
    """An undefined value, an error when used, whose message names the attribute or key a misspelt one
    probably meant: "'briefgen.models.Brief object' has no attribute 'titel'; did you mean 'title'?"."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        message = super()._undefined_message
        owner, name = self._undefined_obj, self._undefined_name
        if self._undefined_hint or owner is jinja2.utils.missing or not isinstance(name, str):
            return message
        names = [str(key) for key in owner] if isinstance(owner, Mapping) else dir(owner)
        return message + suggestion(name, [candidate for candidate in names if not candidate.startswith("_")])


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, which remembers its verdict on an attribute for each type and name.

    The sandbox checks every attribute a template reads, and its checks look at nothing but the name and
    the kind of object (a function, a method, a type, a mutable container...), through isinstance tests
    against abstract classes: about 1.4% of a render's instructions. An object that gives a class of its
    own (__class__) other than its type's is checked every time.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._verdicts: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        kind = type(obj)
        if obj.__class__ is not kind:
            return super().is_safe_attribute(obj, attr, value)
        verdict = self._verdicts.get((kind, attr))
        if verdict is None:
            verdict = self._verdicts[kind, attr] = super().is_safe_attribute(obj, attr, value)
        return verdict


_environments: "weakref.WeakSet[jinja2.Environment]" = weakref.WeakSet()  # what make_environment has made


def cache_misses() -> int:
    """How many template environments this process has made, and templates it has compiled, for its renders
    to share."""
    compiled = sum(len(env.cache) for env in _environments if env.cache is not None)
    return make_environment.cache_info().misses + _outline.cache_info().misses + compiled


@functools.lru_cache(maxsize=16)
def make_environment(search_path: tuple[Path, ...], project_root: Path) -> jinja2.Environment:
    """A sandboxed Jinja2 environment with autoescaping, strict undefined names and briefgen's filters.

    The sandbox keeps an editor's template from reaching Python internals or changing the data.
    Environments are cached per search path, so their compiled templates are reused across briefs; the
    built-in templates' code is also kept for the next process (briefgen.compiled_templates).
    """
    roots = tuple(root.resolve() for root in readable_roots(project_root))
    env = _Sandbox(
        loader=ConfinedLoader(search_path, roots),
        bytecode_cache=CompiledTemplates(KEPT_IN, builtin_templates_dir()),
        autoescape=True,
        undefined=_HintedUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    filters = {
        "prose": _prose,
        "prose_inline": _prose_inline,
        "teaser": _teaser,
        "typo": _typographic,
        "long_date": _long_date,
    }
    env.filters.update((name, _on_defined(name, function)) for name, function in filters.items())
    env.globals.update(
        stylesheet=lambda name, media=None: _style_element(_stylesheet(env, name), media, roots),
        style=jinja2.pass_context(
            lambda context, caller, media=None: _style_element(
                Stylesheet(_style_block_origin(env, context), caller()), media, roots
            )
        ),
        asset_url=lambda name: _asset_url(search_path, name),
        project_url=lambda name: Markup(_project_file(project_root, name).as_uri()),
        embed=lambda name: _data_uri(_project_file(project_root, name)),
        likelihood_ranges=LIKELIHOOD_RANGES,
        generator=f"briefgen {__version__}",
    )
    _environments.add(env)
    return env


def render_html(
    analysis: Analysis,
    env: jinja2.Environment,
    medium: Medium,
    presentation: Presentation,
    files_read: list[Path] | None = None,
    stylesheets: list[Stylesheet] | None = None,
) -> str:
    """Render the brief's HTML document; raise BriefgenError naming the template and line on a mistake.

    Project files the templates embed or link (a logo, fonts) are added to files_read when it is given.
    When stylesheets is given, the styles the templates declare with stylesheet() and style() for
    print are added to it, in document order, and left out of the HTML.
    """
    context = {"analysis": analysis, "assessment": analysis.assessment, "medium": str(medium)}
    token = _FILES_READ.set(files_read)
    try:
        return _render(env, ENTRY_TEMPLATE, context, presentation, stylesheets)
    finally:
        _FILES_READ.reset(token)


def render_catalogue(
    catalogue: Catalogue, briefs: Sequence[Mapping[str, Any]], env: jinja2.Environment, presentation: Presentation
) -> str:
    """Render the catalogue page of a build folder: its catalogue, and the manifest entries it was made from."""
    context = {"catalogue": catalogue, "briefs": briefs, "medium": str(Medium.SCREEN)}
    return _render(env, CATALOGUE_TEMPLATE, context, presentation)


def render_stamp_sheet(
    stamps: Sequence[Stamp],
    env: jinja2.Environment,
    presentation: Presentation,
    stylesheets: list[Stylesheet],
) -> str:
    """Render the sheet of copy stamps, for printing: a page of the stamp font's whole repertoire, then
    one page per stamp.

    Its styles are added to stylesheets, as render_html adds them.
    """
    context = {"stamps": stamps, "repertoire": STAMP_REPERTOIRE, "font": STAMP_FONT, "medium": str(Medium.PRINT)}
    return _render(env, STAMP_TEMPLATE, context, presentation, stylesheets)


def _render(
    env: jinja2.Environment,
    name: str,
    context: dict[str, Any],
    presentation: Presentation,
    stylesheets: list[Stylesheet] | None = None,
) -> str:
    """Render a template; with stylesheets, its styles are collected there instead of put in the HTML."""
    context = {
        **context,
        "config": presentation.config,
        "theme": presentation.theme,
        "labels": presentation.labels,
        "lang": presentation.language,
    }
    token = _STYLESHEETS.set(stylesheets)
    try:
        _extends_chain(env, name)
        return env.get_template(name).render(context)
    except BriefgenError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        message = f"template error: {_with_filter_hint(env, exc.message or '')}{_opening_hint(env, exc)}"
        raise BriefgenError([Diagnostic(_shown(exc.filename, exc.name), message, exc.lineno)]) from None
    except jinja2.TemplateNotFound as exc:
        where = _template_frame(exc.__traceback__, env)
        filename, line = where if where else (name, None)
        message = f"template '{exc.name}' not found in {_path_list(env)}"
        raise BriefgenError([Diagnostic(_shown(filename, None), message, line)]) from None
    except Exception as exc:
        where = _template_frame(exc.__traceback__, env)
        if where is None and not isinstance(exc, jinja2.TemplateError):
            raise
        # No frame: the loader refused the template rendered itself, before any of its lines ran.
        filename, line = where or (str(_on_search_path(env, name) or name), None)
        message = f"template error: {str(exc) or type(exc).__name__}"  # some errors say nothing but their kind
        raise BriefgenError([Diagnostic(display_path(Path(filename)), message, line)]) from None
    finally:
        _STYLESHEETS.reset(token)


class Outline(NamedTuple):
    """What the checks of an extends chain need of a template's syntax tree: its first extends tag, the names
    of all its blocks, and the blocks outside any other block."""

    extends: nodes.Extends | None
    blocks: tuple[str, ...]
    outer_blocks: tuple[nodes.Block, ...]


class Layer(NamedTuple):
    """A template of an extends chain: its name, its file and the outline of its parsed form."""

    name: str
    path: Path
    outline: Outline


def _extends_chain(env: jinja2.Environment, name: str) -> list[Layer]:
    """The template and those it extends, nearest first, as far as their names are fixed and found;
    BriefgenError when one extends itself or they extend each other in a loop."""
    assert isinstance(env.loader, jinja2.FileSystemLoader)
    chain: list[Layer] = []
    while (path := _on_search_path(env, name)) is not None:
        source, filename, _ = env.loader.get_source(env, name)
        chain.append(Layer(name, path, _outline(env, name, filename, source)))
        extends = chain[-1].outline.extends
        if extends is None or not isinstance(extends.template, nodes.Const):
            break
        parent = str(extends.template.value)
        if parent == name:
            raise BriefgenError([Diagnostic(display_path(path), _extends_itself(env, name, path), extends.lineno)])
        if parent in (layer.name for layer in chain):
            loop = " -> ".join([*(layer.name for layer in chain), parent])
            message = f"templates extend each other in a loop: {loop}"
            raise BriefgenError([Diagnostic(display_path(path), message, extends.lineno)])
        name = parent
    return chain


@functools.lru_cache(maxsize=128)
def _outline(env: jinja2.Environment, name: str, filename: str, source: str) -> Outline:
    """The outline of a template's syntax tree, parsed and walked once per process for each text it has."""
    tree = env.parse(source, name, filename)
    blocks = tuple(block.name for block in tree.find_all(nodes.Block))
    return Outline(next(tree.find_all(nodes.Extends), None), blocks, tuple(_outer_blocks(tree)))


def _extends_itself(env: jinja2.Environment, name: str, path: Path) -> str:
    """What to say of a template that extends its own name: it hides the one it meant, and what to extend."""
    assert isinstance(env.loader, jinja2.FileSystemLoader)
    folders = [Path(folder) for folder in env.loader.searchpath]
    hidden = [folder / name for folder in folders if (folder / name).is_file() and folder / name != path]
    message = f"{name} extends itself: this file hides the built-in {name}, so the name finds this file again"
    if not hidden:
        return message
    extends = next(env.parse(hidden[0].read_text(encoding="utf-8")).find_all(nodes.Extends), None)
    if extends is not None and isinstance(extends.template, nodes.Const):
        return f'{message}; extend "{extends.template.value}" instead, as the built-in one does'
    return f"{message}; copy the built-in one instead (briefgen templates eject {name})"


def unknown_blocks(env: jinja2.Environment) -> list[Diagnostic]:
    """Warnings for the blocks the brief's templates define outside any other block that no template they
    extend has: such a block is never shown, as a misspelt name is not."""
    chain = _extends_chain(env, ENTRY_TEMPLATE)
    warnings = []
    for depth, layer in enumerate(chain[:-1]):
        known = list(dict.fromkeys(name for parent in reversed(chain[depth + 1 :]) for name in parent.outline.blocks))
        for block in layer.outline.outer_blocks:
            if block.name not in known:
                hint = suggestion(block.name, known)
                message = (
                    f"block '{block.name}' is not in {chain[depth + 1].name} or the templates it extends, so it is "
                    f"never shown{hint}{' ' if hint else '; '}blocks: {', '.join(known)}"
                )
                warnings.append(Diagnostic(display_path(layer.path), message, block.lineno, severity=Severity.WARNING))
    return warnings


def _outer_blocks(node: nodes.Node) -> Iterator[nodes.Block]:
    """The blocks in a template that are not inside another block."""
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.Block):
            yield child
        else:
            yield from _outer_blocks(child)


def _on_defined(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that reports an undefined value as Jinja does ("... has no attribute 'titel'") rather than
    failing on it with a message about types, and arguments it does not take by the filter's name, not by
    the name of the function behind it."""
    takes = len(inspect.signature(function).parameters) - 2  # besides the context and the value filtered

    @functools.wraps(function)
    def filter_defined(context: jinja2.runtime.Context, value: Any, *args: Any) -> Any:
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()
        if len(args) > takes:
            allowed = "no arguments" if takes == 0 else f"at most {takes} argument{'s' if takes > 1 else ''}"
            raise TypeError(f"the filter '{name}' takes {allowed}; it was given {len(args)}")
        return function(context, value, *args)

    return jinja2.pass_context(filter_defined)


def _prose(context: jinja2.runtime.Context, text: str) -> Markup:
    return prose(text, _quotes(context))


def _prose_inline(context: jinja2.runtime.Context, text: str) -> Markup:
    return prose_inline(text, _quotes(context))


def _teaser(context: jinja2.runtime.Context, text: str, length: int = TEASER_LENGTH) -> str:
    return teaser(text, length, _quotes(context))


def _typographic(context: jinja2.runtime.Context, text: str) -> Markup:
    return typographic(text, _quotes(context))


def _quotes(context: jinja2.runtime.Context) -> str:
    return context["labels"].get("quotes", ENGLISH_QUOTES)


def _long_date(context: jinja2.runtime.Context, value: dt.date) -> str:
    if not isinstance(value, dt.date):
        raise TypeError(f"long_date takes a date, not {type(value).__name__} {str(value)[:40]!r}")
    return format_date(value, context["labels"])


def _project_file(project_root: Path, name: str) -> Path:
    """A file inside the project (checked again here: templates may name any path)."""
    root = project_root.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise jinja2.TemplateError(f"'{name}' is not a file inside the project")
    _note_read(path)
    return path


def _note_read(path: Path) -> None:
    """Count a file as read by the render in progress, when it keeps count."""
    if (files_read := _FILES_READ.get()) is not None:
        files_read.append(path)


def _data_uri(path: Path) -> Markup:
    """A project file (a logo) as a data: URI, so the standalone HTML needs no other file."""
    data = path.read_bytes()
    if len(data) > MAX_EMBEDDED_BYTES:
        raise jinja2.TemplateError(f"'{path.name}' is over {MAX_EMBEDDED_BYTES:,} bytes, too large to embed")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Markup(f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}")


def _style_block_origin(env: jinja2.Environment, context: jinja2.runtime.Context) -> str:
    """The template holding a style block, as shown to the user."""
    found = _on_search_path(env, context.name) if context.name else None
    return f"{_shown(str(found) if found else None, context.name)} (a style block)"


def _on_search_path(env: jinja2.Environment, name: str) -> Path | None:
    """The file a template or stylesheet name finds first on the search path."""
    folders = env.loader.searchpath if isinstance(env.loader, jinja2.FileSystemLoader) else []
    return next((Path(folder) / name for folder in folders if (Path(folder) / name).is_file()), None)


def _stylesheet(env: jinja2.Environment, name: str) -> Stylesheet:
    """A stylesheet found on the template search path."""
    assert isinstance(env.loader, jinja2.FileSystemLoader)
    try:
        source, filename, _ = env.loader.get_source(env, name)
    except BriefgenError:
        if Path(name).suffix == ".css":
            raise
        raise jinja2.TemplateError(f"'{name}' is not a stylesheet; stylesheet() takes a .css file") from None
    shown = _shown(filename, name)
    if "@import" in source.lower() and (place := _import_rule(source)):
        advice = '@import is not supported: include each stylesheet from a template with {{ stylesheet("NAME.css") }}'
        raise BriefgenError([Diagnostic(shown, advice, *place)])
    return Stylesheet(shown, source, Path(filename).parent)


def _import_rule(css: str) -> tuple[int, int] | None:
    """Where a stylesheet's first @import rule stands (not one in a comment or a string), if it has one."""
    import tinycss2  # WeasyPrint's CSS parser; only stylesheets that mention @import pay for it

    for rule in tinycss2.parse_stylesheet(css):
        if rule.type == "at-rule" and rule.lower_at_keyword == "import":
            return rule.source_line, rule.source_column
    return None


def _style_element(sheet: Stylesheet, media: str | None, allowed_roots: tuple[Path, ...]) -> Markup:
    """CSS as a <style> element, or nothing when the PDF printer takes the render's styles apart.

    In a <style> element, a stylesheet file's relative url()s would resolve against the HTML file, wherever
    it is written: what they name is embedded instead, as data: URLs.
    """
    if media is not None and media not in STYLE_MEDIA:
        raise jinja2.TemplateError(f"style media '{media}' is not one of {', '.join(STYLE_MEDIA)}")
    collected = _STYLESHEETS.get()
    if collected is not None:
        if media != "screen":
            collected.append(sheet._replace(css=str(sheet.css)))
        return Markup("")
    media_attribute = f' media="{media}"' if media is not None else ""
    text = str(sheet.css) if sheet.folder is None else _embedded_urls(sheet, allowed_roots)
    text = text.replace("</", "<\\/")  # no CSS text may close the element early
    return Markup(f"<style{media_attribute}>\n{text}\n</style>")


def _embedded_urls(sheet: Stylesheet, allowed_roots: tuple[Path, ...]) -> str:
    """A stylesheet file's CSS with the files its relative url()s name as data: URLs; BriefgenError at the
    url() of one that is missing, outside what rendering may read, or too large to embed."""
    assert sheet.folder is not None
    relative = [found for found in stylesheet_urls(sheet.css) if found.relative]
    if not relative:
        return sheet.css
    text, parts, done = normalised(sheet.css), [], 0
    base_url = folder_url(sheet.folder)
    for found in relative:
        url = urlsplit(urljoin(base_url, found.value))
        try:
            path = checked_file(Path(unquote(url.path)), allowed_roots)
        except RefusedResource as exc:
            message = f"resource refused: {exc}"
            raise BriefgenError([Diagnostic(sheet.origin, message, found.line, found.column)]) from None
        except MissingFile as exc:
            raise BriefgenError([Diagnostic(sheet.origin, str(exc), found.line, found.column)]) from None
        if path.stat().st_size > MAX_EMBEDDED_BYTES:
            message = f"{display_path(path)}: over {MAX_EMBEDDED_BYTES:,} bytes, too large to embed in the HTML file"
            raise BriefgenError([Diagnostic(sheet.origin, message, found.line, found.column)])
        fragment = f"#{url.fragment}" if url.fragment else ""
        _note_read(path)
        parts += [text[done : found.start], f'url("{_data_uri(path)}{fragment}")']
        done = found.end
    return "".join([*parts, text[done:]])


def _asset_url(search_path: Sequence[Path], name: str) -> Markup:
    """The file URL of an asset (font, image) found on the template search path, for the PDF printer."""
    if found := find_asset(search_path, name):
        return Markup(found.as_uri())
    raise jinja2.TemplateError(f"asset '{name}' not found in " + ", ".join(display_path(p) for p in search_path))


def find_asset(search_path: Sequence[Path], name: str) -> Path | None:
    """An asset's file on the template search path, first match winning."""
    for folder in search_path:
        candidate = (folder / name).resolve()
        if candidate.is_relative_to(folder.resolve()) and candidate.is_file():
            return candidate
    return None


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
