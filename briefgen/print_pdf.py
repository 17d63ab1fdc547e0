"""Stage 5, print PDF: lay the brief's HTML out on paged media with WeasyPrint.

WeasyPrint is imported here and nowhere else, so commands that print nothing
start fast. Every resource the document asks for goes through one fetcher: it
reads regular files inside the allowed folders and small ``data:`` URLs, and
reaches the network only for hosts the user listed, never following redirects
nor connecting to private, loopback or link-local addresses. Font files of the
config whose faces come from different families are handed to the printer under
the config's family name (see ``_under_family``). Anything else
fails the brief with an error naming the URL, at the url() of the stylesheet
file that asked for it when one did. A stylesheet file's relative URLs resolve
against its own folder; everything else's against the project folder.
"""

import atexit
import contextlib
import functools
import io
import ipaddress
import logging
import mimetypes
import re
import socket
import traceback
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from briefgen.errors import BriefgenError, Diagnostic, Severity
from briefgen.native_libraries import libraries_from_ldconfig_cache
from briefgen.resources import MissingFile, RefusedResource, checked_file, folder_url, stylesheet_urls
from briefgen.stack_room import called_with_room

with libraries_from_ldconfig_cache():  # 0.2 s less start-up: no gcc and ld runs looking for Pango & co.
    import weasyprint
    from weasyprint.css.counters import CounterStyle
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import FatalURLFetchingError, URLFetcherResponse, url_join
import pydyf
from fontTools.ttLib import TTFont
from zlib_ng import zlib_ng

from briefgen import custom_properties, weasy_source  # after WeasyPrint, which they import

# WeasyPrint's PDF writer deflates every stream (fonts, pages, object streams) at zlib's level 9, which took
# about 6% of a render of the sample; zlib-ng, a drop-in for the zlib module, does the same at the same level
# in about 40% of the time, for files 0.8% larger. The PDF's content is unchanged, its compressed bytes are
# zlib-ng's (README, "Measured speed"). Set once, for every PDF this process prints, so that its bytes never
# depend on which thread or command printed it.
pydyf.zlib = zlib_ng

MAX_DATA_URL_BYTES = 2_000_000
PLACE = re.compile(r",? at (\d+):(\d+)")  # where in a stylesheet WeasyPrint's warning points
IGNORED = re.compile(r"Ignored `(.*)`(.*)")
DATA_URL_SHOWN = 48
LONG_DATA_URL = re.compile(rf"data:[^\s'\"]{{{DATA_URL_SHOWN + 1},}}")


@dataclass(frozen=True)
class PrintedPdf:
    data: bytes
    pages: int
    files_read: tuple[Path, ...]
    warnings: tuple[Diagnostic, ...] = ()  # what the printer ignored in the stylesheets


class _Failure(NamedTuple):
    """What failed a brief, and the URL of the resource that did when one did."""

    message: str
    url: str | None = None


class ProjectFetcher(weasyprint.URLFetcher):
    """Fetches regular files inside the allowed folders, small data: URLs, and only the listed web hosts.

    renamed_fonts maps font files (resolved paths) to the family name to hand them over under.
    """

    def __init__(
        self,
        allowed_roots: Sequence[Path],
        allowed_hosts: Collection[str] = (),
        renamed_fonts: Mapping[Path, str] | None = None,
    ) -> None:
        super().__init__(
            timeout=10, allowed_protocols=("file", "data", "http", "https"), allow_redirects=False, fail_on_errors=True
        )
        self.allowed_roots = tuple(root.resolve() for root in allowed_roots)
        self.allowed_hosts = frozenset(host.lower() for host in allowed_hosts)
        self.renamed_fonts = dict(renamed_fonts or {})
        self.files_read: list[Path] = []
        self.failures: list[_Failure] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        try:
            return self._fetch(url, headers)
        except RefusedResource as exc:  # WeasyPrint swallows some failures (inside SVG): keep them
            self.failures.append(_Failure(f"resource refused: {exc}", url))
            raise
        except MissingFile as exc:
            self.failures.append(_Failure(str(exc), url))
            raise

    def _fetch(self, url: str, headers: dict[str, str] | None) -> URLFetcherResponse:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "file":
            # A file: URL's path is absolute. Since Python 3.13 and 3.12.6 (gh-85110), urljoin, which WeasyPrint
            # resolves relative URLs with, drops the root when `..` climbs above it ('file:etc/passwd'): read
            # that from /, not the working directory.
            path = checked_file(Path("/", unquote(parts.path)), self.allowed_roots)
            self.files_read.append(path)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            data = path.read_bytes()
            if (family := self.renamed_fonts.get(path)) is not None:
                data = _under_family(data, family)
            return URLFetcherResponse(url, data, {"Content-Type": content_type})
        if scheme == "data":
            if len(url) > MAX_DATA_URL_BYTES:
                raise RefusedResource(f"data: URL of {len(url):,} bytes is over the {MAX_DATA_URL_BYTES:,} limit")
        elif scheme in ("http", "https"):
            self._check_host(url, parts.hostname or "")
        else:
            raise RefusedResource(f"{url}: the {scheme}: scheme is not allowed")
        return super().fetch(url, headers)

    def _check_host(self, url: str, host: str) -> None:
        if not self.allowed_hosts:
            raise RefusedResource(f"{url}: network access is off (allow a host with --allow-host)")
        if host.lower() not in self.allowed_hosts:
            allowed = ", ".join(sorted(self.allowed_hosts))
            raise RefusedResource(f"{url}: {host} is not among the allowed hosts ({allowed}); add it with --allow-host")
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
        except OSError as exc:
            raise RefusedResource(f"{url}: cannot resolve {host}: {exc}") from None
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global:
                raise RefusedResource(f"{url}: {host} resolves to the non-public address {ip}")


def _under_family(data: bytes, family: str) -> bytes:
    """A font file whose name table calls its family `family`, and nothing else.

    WeasyPrint registers an @font-face file with fontconfig under the rule's family name but keeps the
    file's own family name behind it. When the faces of one rule family come from different font
    families, fontconfig ranks a family name later in the CSS font stack (or one "serif" stands for, such
    as DejaVu Serif) above the weight, and prints every weight in the file whose own family is named there.
    With one family name in every file, the weight decides again.
    """
    font = TTFont(io.BytesIO(data), fontNumber=0)
    names = font["name"]
    for name_id in (1, 16, 21):  # the family, typographic family and WWS family names
        names.removeNames(nameID=name_id)
    names.setName(family, 1, 3, 1, 0x409)  # Windows, Unicode, English
    font.flavor = None  # a plain TrueType or OpenType file, also from WOFF
    renamed = io.BytesIO()
    font.save(renamed)
    return renamed.getvalue()


def print_pdf(
    html: str,
    *,
    stylesheets: Sequence[tuple[str, str, Path | None]] = (),
    base_dir: Path,
    allowed_roots: Sequence[Path],
    allowed_hosts: Collection[str] = (),
    shown_as: str,
    tagged: bool = True,
    renamed_fonts: Sequence[tuple[Path, str]] = (),
) -> PrintedPdf:
    """Lay out the HTML and write the PDF; raise BriefgenError when a resource is refused or broken.

    stylesheets: (origin, CSS, the folder of the file it is, None for CSS out of a template) applied in order
        after the HTML's own; each CSS is parsed once per process. What the printer ignores in one, and a
        resource one of its url()s asks for that fails the brief, is reported at its origin.
    tagged: write the document's structure (headings, lists, tables, alt text) for assistive technology.
    renamed_fonts: font files (resolved paths) to hand to the printer under a family name (_under_family).
    """
    base_url = folder_url(base_dir)
    roots, hosts, renamed = tuple(allowed_roots), frozenset(allowed_hosts), tuple(renamed_fonts)
    try:
        folded = custom_properties.folded(html, [css for _, css, _ in stylesheets])
        sheets = []
        for css, (origin, _, folder) in zip(folded, stylesheets, strict=True):
            sheet_url = base_url if folder is None else folder_url(folder)
            try:
                sheets.append(_parsed_stylesheet(css.text, sheet_url, roots, hosts, renamed))
            except (_Failed, OSError):
                raise
            except Exception as exc:  # WeasyPrint broke on a value: said at the declaration it was reading
                raise BriefgenError([_broken_on(exc, origin, folder is not None, css)]) from None
        counter_styles, color_profiles = CounterStyle(), {}
        for sheet in sheets:  # what the sheets' @counter-style and @color-profile rules define
            counter_styles.update(sheet.counter_styles)
            color_profiles.update(sheet.color_profiles)
        fetcher = ProjectFetcher(roots, hosts, dict(renamed))

        def laid_out_and_written() -> tuple[weasyprint.Document, bytes]:
            document = weasy_source.render(
                html,
                base_url,
                fetcher,
                [css for _, css, _ in stylesheets],
                font_config=_font_config(),
                counter_style=counter_styles,
                color_profiles=color_profiles,
                stylesheets=[sheet.css for sheet in sheets],
                pdf_tags=tagged,
            )
            return document, document.write_pdf(pdf_tags=tagged)

        with _reading(fetcher):
            try:
                document, data = called_with_room(laid_out_and_written)  # WeasyPrint recurses deep
            except (_Failed, OSError, FatalURLFetchingError):
                raise
            except Exception as exc:  # a style or a document WeasyPrint cannot handle
                message = (
                    f"the PDF printer broke while laying the brief out ({_what_broke(exc)}): a value in the "
                    "stylesheets it cannot handle, or a bug in WeasyPrint"
                )
                raise BriefgenError([Diagnostic(shown_as, message)]) from None
    except _Failed as exc:
        raise BriefgenError(_placed(failure, shown_as, stylesheets, base_url) for failure in exc.failures) from None
    files_read = [path for sheet in sheets for path in sheet.files_read] + fetcher.files_read
    warnings = tuple(
        _ignored(message, origin, folder is not None, css)
        for (origin, _, folder), css, sheet in zip(stylesheets, folded, sheets, strict=True)
        for message in sheet.ignored
    )
    return PrintedPdf(data, len(document.pages), tuple(dict.fromkeys(files_read)), warnings)


def _placed(
    failure: _Failure, shown_as: str, stylesheets: Sequence[tuple[str, str, Path | None]], document_url: str
) -> Diagnostic:
    """A failure at the first url() of a stylesheet that asks for its URL: at its line in a stylesheet file,
    at the template of a style block (whose URLs resolve as the document's do); else at the brief."""
    if failure.url is not None:
        for origin, css, folder in stylesheets:
            base_url = document_url if folder is None else folder_url(folder)
            for found in stylesheet_urls(css):
                if url_join(base_url, found.value, False, None) != failure.url:
                    continue
                if folder is None:
                    return Diagnostic(origin, f"{failure.message} (at {found.line}:{found.column} of the block)")
                return Diagnostic(origin, failure.message, found.line, found.column)
    return Diagnostic(shown_as, failure.message)


def _broken_on(exc: Exception, origin: str, a_file: bool, css: custom_properties.Folded) -> Diagnostic:
    """The error for a stylesheet WeasyPrint broke on while parsing it, at the declaration it was reading when
    its frames show one (WeasyPrint's validators raise more than InvalidValues on some values)."""
    place = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        declaration = frame.f_locals.get("declaration")
        if isinstance(getattr(declaration, "source_line", None), int):
            place = declaration.source_line, css.original_column(declaration.source_line, declaration.source_column)
    message = f"the PDF printer broke on this stylesheet ({_what_broke(exc)}); change or remove the value"
    if place is None:
        return Diagnostic(origin, message)
    if a_file:
        return Diagnostic(origin, message.replace("this stylesheet", "this declaration"), *place)
    return Diagnostic(origin, f"{message} (at {place[0]}:{place[1]} of the block)")


def _what_broke(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}, in WeasyPrint {weasyprint.__version__}"


def _ignored(message: str, origin: str, a_file: bool, css: custom_properties.Folded) -> Diagnostic:
    """A warning of what WeasyPrint ignored in a stylesheet ("Ignored `x` at 3:5, unknown property."), placed
    at the stylesheet's line when the stylesheet is a file of its own, at the column as written (css)."""
    text, line, column, where = message.strip().removeprefix("Error: "), None, None, ""
    if place := PLACE.search(text):
        text = text[: place.start()] + text[place.end() :]
        line, column = int(place.group(1)), css.original_column(int(place.group(1)), int(place.group(2)))
        if not a_file:
            where, line, column = f" (at {line}:{column} of the block)", None, None
    text = text.strip().rstrip(".")
    if found := IGNORED.fullmatch(text):
        text = f"the PDF printer ignores `{found.group(1)}`{found.group(2)}"
    else:
        text = f"the PDF printer: {text[:1].lower() + text[1:] if text[1:2].islower() else text}"
    return Diagnostic(origin, text + where, line, column, severity=Severity.WARNING)


@dataclass(frozen=True)
class _ParsedStylesheet:
    css: weasyprint.CSS
    files_read: tuple[Path, ...]  # what parsing it read (fonts of @font-face rules), for every brief using it
    ignored: tuple[str, ...]  # WeasyPrint's warnings of what it ignored, for every brief using it
    counter_styles: dict[str, Any]
    color_profiles: dict[str, Any]


class _NoStyleRules:
    """The matcher of a stylesheet without style rules. WeasyPrint asks each sheet's matcher for the rules of
    every element of a document; cssselect2's looks the element's id, classes and name up even when it holds
    nothing (three such sheets in a brief: 0.4% of a render)."""

    @staticmethod
    def match(element: object) -> tuple[()]:
        return ()


_NO_STYLE_RULES = _NoStyleRules()


class _Failed(Exception):
    def __init__(self, failures: Sequence[_Failure]) -> None:
        super().__init__(*failures)
        self.failures = failures


@functools.lru_cache(maxsize=64)
def _parsed_stylesheet(
    css: str,
    base_url: str,
    allowed_roots: tuple[Path, ...],
    allowed_hosts: frozenset[str],
    renamed_fonts: tuple[tuple[Path, str], ...] = (),
) -> _ParsedStylesheet:
    """A stylesheet parsed once per process, with its fonts added to the shared font configuration.

    A sheet that fails (a refused font, say) raises, and is parsed, and fails, again for the next brief.
    """
    fetcher = ProjectFetcher(allowed_roots, allowed_hosts, dict(renamed_fonts))
    counter_styles: dict[str, Any] = {}
    color_profiles: dict[str, Any] = {}
    with _reading(fetcher), _collected(logging.WARNING, below=logging.ERROR) as ignored:
        sheet = weasyprint.CSS(
            string=css,
            base_url=base_url,
            url_fetcher=fetcher,
            font_config=_font_config(),
            counter_style=counter_styles,
            color_profiles=color_profiles,
            media_type="print",
        )
    if getattr(sheet.matcher, "order", None) == 0:  # no style rule (only @font-face, @page...): none to try
        sheet.matcher = _NO_STYLE_RULES
    files_read = tuple(dict.fromkeys(fetcher.files_read))
    return _ParsedStylesheet(sheet, files_read, tuple(ignored), counter_styles, color_profiles)


@contextlib.contextmanager
def _reading(fetcher: ProjectFetcher) -> Iterator[None]:
    """Let WeasyPrint read a document or a stylesheet through fetcher; raise _Failed with what went wrong.

    WeasyPrint's error-level log messages (broken image, bad font) count as failures.
    """
    with _collected(logging.ERROR) as logged:
        try:
            yield
        except FatalURLFetchingError as exc:
            if not fetcher.failures:
                raise _Failed([_Failure(f"resource refused: {exc.__cause__ or exc}")]) from None
    if fetcher.failures:  # the root cause; what failed because of it (an SVG holding the URL) adds nothing
        raise _Failed(list(dict.fromkeys(fetcher.failures)))
    if logged:
        raise _Failed([_Failure(_explained(message.rstrip(": "))) for message in logged])


def _explained(message: str) -> str:
    """What the PDF printer said, with what to do when an editor's template causes it."""
    if message.startswith('Missing required "lang" attribute'):
        return (
            'the HTML has no <html lang="...">, which a tagged PDF needs: make templates/brief.html.j2 extend '
            '"layout.html.j2", or write <html lang="{{ lang }}"> in it'
        )
    return f"PDF error: {_shortened(message)}"


def _shortened(message: str) -> str:
    """A message with each long data: URL in it cut short: an embedded image would fill the terminal."""
    return LONG_DATA_URL.sub(lambda found: f"{found.group()[:DATA_URL_SHOWN]}…", message)


def cache_misses() -> int:
    """How many stylesheets this process has parsed for its renders to share."""
    return _parsed_stylesheet.cache_info().misses


def warm_up() -> None:
    """Set up the font configuration every render of this process shares, before the first brief."""
    _font_config()


@functools.cache
def _font_config() -> FontConfiguration:
    """One font configuration per process: a new one per render leaks memory in long-lived workers.

    WeasyPrint copies the fonts of @font-face rules into a temporary folder (about 3 MB for the bundled
    faces) and removes it when the configuration is garbage-collected, which one kept for the life of the
    process never is: its own clean-up runs at exit instead.
    """
    config = FontConfiguration()
    atexit.register(config.__del__)
    return config


class _Collector(logging.Handler):
    """The messages of levels from `lowest` up to, not including, `below`."""

    def __init__(self, lowest: int, below: int) -> None:
        super().__init__(lowest)
        self.below = below
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < self.below:
            self.messages.append(record.getMessage())


@contextlib.contextmanager
def _collected(lowest: int, below: int = logging.CRITICAL + 1) -> Iterator[list[str]]:
    """WeasyPrint's log messages of the level while the block runs: errors (a broken image, a bad font)
    fail the brief; warnings while a stylesheet is parsed tell what it ignored."""
    handler = _Collector(lowest, below)
    weasyprint.LOGGER.addHandler(handler)
    try:
        yield handler.messages
    finally:
        weasyprint.LOGGER.removeHandler(handler)
