"""The safe Markdown subset of prose fields: emphasis, links and lists, never raw HTML."""

import functools

from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_LINK_SCHEMES = ("https://", "http://", "mailto:")
ENGLISH_QUOTES = "“”‘’"


@functools.cache
def _markdown(quotes: str) -> MarkdownIt:
    markdown = MarkdownIt("commonmark", {"html": False, "typographer": True, "quotes": quotes})
    markdown.enable(["replacements", "smartquotes"])
    markdown.disable(["image", "heading", "lheading", "code", "fence", "html_block", "html_inline", "hr"])
    markdown.validateLink = lambda url: url.strip().lower().startswith(ALLOWED_LINK_SCHEMES)
    return markdown


@functools.cache
def _plain(quotes: str) -> MarkdownIt:
    """Only typography: for one-line text fields, where Markdown syntax is taken literally."""
    return MarkdownIt("zero", {"typographer": True, "quotes": quotes}).enable(["replacements", "smartquotes"])


def prose(text: str, quotes: str = ENGLISH_QUOTES) -> Markup:
    """Render a prose field as block HTML (paragraphs and lists)."""
    return Markup(_markdown(quotes).render(text))


def prose_inline(text: str, quotes: str = ENGLISH_QUOTES) -> Markup:
    """Render a one-paragraph prose field as inline HTML, without a wrapping paragraph."""
    return Markup(_markdown(quotes).renderInline(text))


def typographic(text: str, quotes: str = ENGLISH_QUOTES) -> Markup:
    """Escape a one-line text field and give it typographic quotes and dashes."""
    return Markup(_plain(quotes).renderInline(text))
