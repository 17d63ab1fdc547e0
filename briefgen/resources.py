"""The files rendering may read, and the url()s of a stylesheet.

Both the PDF printer's fetcher and the HTML renderer (which embeds what a
stylesheet's relative url()s name) read files through :func:`checked_file`, so
they refuse and report the same things in the same words.
"""

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from briefgen.errors import display_path

MAX_FILE_BYTES = 20_000_000
# A url() from its start to its closing parenthesis: a quoted string or an unquoted URL inside.
URL_CALL = re.compile(r"""url\(\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|(?:[^)\\]|\\.)*)\s*\)""", re.I | re.S)


class RefusedResource(Exception):
    """A resource outside what a brief may read."""


class MissingFile(Exception):
    """A file a resource's URL names that does not exist."""


def checked_file(path: Path, allowed_roots: tuple[Path, ...]) -> Path:
    """The resolved path of a regular file inside the allowed (resolved) folders and under the size cap."""
    resolved = path.resolve()
    if not any(resolved.is_relative_to(root) for root in allowed_roots):
        raise RefusedResource(f"{path}: outside the project and briefgen's own files")
    if not resolved.exists():
        raise MissingFile(f"{display_path(path)}: no such file")
    if not resolved.is_file():
        raise RefusedResource(f"{path}: not a regular file")
    if resolved.stat().st_size > MAX_FILE_BYTES:
        raise RefusedResource(f"{path}: larger than {MAX_FILE_BYTES:,} bytes")
    return resolved


@dataclass(frozen=True)
class CssUrl:
    """A url() of a stylesheet: its URL as CSS reads it, where it stands, and its span in the text."""

    value: str
    line: int
    column: int
    start: int
    end: int

    @property
    def relative(self) -> bool:
        """Whether the URL is relative to the stylesheet: not empty, a fragment, a path from the root, nor
        one with a scheme (data:, file:, https:)."""
        return bool(self.value) and not self.value.startswith(("#", "/")) and not urlsplit(self.value).scheme


def folder_url(folder: Path) -> str:
    """The URL that relative URLs in a file of the folder resolve against."""
    return folder.resolve().as_uri() + "/"


def normalised(css: str) -> str:
    """CSS with its line breaks as the CSS parser counts lines: \\n only."""
    return css.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")


@functools.lru_cache(maxsize=64)
def stylesheet_urls(css: str) -> tuple[CssUrl, ...]:
    """The url()s in a stylesheet (not those in comments or strings), in order; spans index normalised(css)."""
    import tinycss2

    text = normalised(css)
    line_starts = [0, *(found.end() for found in re.finditer("\n", text))]
    found: list[CssUrl] = []

    def walk(nodes: list[Any]) -> None:
        for node in nodes:
            if node.type == "url":
                add(node, node.value)
            elif node.type == "function" and node.lower_name == "url":
                arguments = [part for part in node.arguments if part.type not in ("whitespace", "comment")]
                if len(arguments) == 1 and arguments[0].type == "string":
                    add(node, arguments[0].value)
            if node.type == "function":
                walk(node.arguments)
            elif node.type in ("() block", "[] block", "{} block"):
                walk(node.content)

    def add(node: Any, value: str) -> None:
        start = line_starts[node.source_line - 1] + node.source_column - 1
        if call := URL_CALL.match(text, start):  # not a url( written with escapes, as u\72l(
            found.append(CssUrl(value, node.source_line, node.source_column, start, call.end()))

    walk(tinycss2.parse_component_value_list(text, skip_comments=True))
    return tuple(found)
