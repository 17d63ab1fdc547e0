"""Stage 5, print PDF: lay the brief's HTML out on paged media with WeasyPrint.

WeasyPrint is imported here and nowhere else, so commands that print nothing
start fast. Every resource the document asks for goes through a fetcher that
only reads regular files inside the allowed folders and small ``data:`` URLs;
anything else fails the brief with an error naming the URL.
"""

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from weasyprint.urls import FatalURLFetchingError

from briefgen.errors import BriefgenError, Diagnostic

MAX_DATA_URL_BYTES = 2_000_000
MAX_FILE_BYTES = 20_000_000


@dataclass(frozen=True)
class PrintedPdf:
    data: bytes
    pages: int


class RefusedResource(Exception):
    """A resource outside what a brief may read."""


class ProjectFetcher(weasyprint.URLFetcher):
    """Fetches only regular files inside the allowed folders and small data: URLs; never the network."""

    def __init__(self, allowed_roots: Sequence[Path]) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False, fail_on_errors=True)
        self.allowed_roots = tuple(root.resolve() for root in allowed_roots)

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> weasyprint.urls.URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            if len(url) > MAX_DATA_URL_BYTES:
                raise RefusedResource(f"data: URL of {len(url):,} bytes is over the {MAX_DATA_URL_BYTES:,} limit")
        elif scheme == "file":
            self._check_file(Path(unquote(urlsplit(url).path)))
        else:
            raise RefusedResource(f"{url}: briefs may not load resources from the network")
        return super().fetch(url, headers)

    def _check_file(self, path: Path) -> None:
        resolved = path.resolve()
        if not any(resolved.is_relative_to(root) for root in self.allowed_roots):
            raise RefusedResource(f"{path}: outside the project and briefgen's own files")
        if not resolved.is_file():
            raise RefusedResource(f"{path}: not a regular file")
        if resolved.stat().st_size > MAX_FILE_BYTES:
            raise RefusedResource(f"{path}: larger than {MAX_FILE_BYTES:,} bytes")


def print_pdf(html: str, *, base_dir: Path, allowed_roots: Sequence[Path], shown_as: str) -> PrintedPdf:
    """Lay out the HTML and write the PDF; raise BriefgenError when a resource is refused or broken."""
    fetcher = ProjectFetcher(allowed_roots)
    with _collect_errors() as logged:
        try:
            document = weasyprint.HTML(
                string=html, base_url=base_dir.resolve().as_uri() + "/", url_fetcher=fetcher
            ).render(pdf_tags=True)
            data = document.write_pdf(pdf_tags=True)
        except FatalURLFetchingError as exc:
            cause = exc.__cause__ or exc
            raise BriefgenError([Diagnostic(shown_as, f"resource refused: {cause}")]) from None
    if logged:
        raise BriefgenError([Diagnostic(shown_as, f"PDF error: {message}") for message in logged])
    return PrintedPdf(data, len(document.pages))


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _collect_errors() -> Iterator[list[str]]:
    """Turn WeasyPrint's error-level log messages (broken image, bad font) into errors of this brief."""
    handler = _ErrorCollector()
    weasyprint.LOGGER.addHandler(handler)
    try:
        yield handler.messages
    finally:
        weasyprint.LOGGER.removeHandler(handler)
