"""The safe Markdown subset of prose fields: emphasis, links and lists, never raw HTML."""

import functools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:  # markdown-it loads when prose is first parsed: a build with nothing to render never does
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

ALLOWED_LINK_SCHEMES = ("https://", "http://", "mailto:")
ENGLISH_QUOTES = "“”‘’"
# Block constructs prose has no use for: their Markdown is shown as written.
UNUSED_RULES = ["heading", "lheading", "code", "fence", "hr"]
RAW_HTML_MESSAGE = "raw HTML is not allowed in prose; use Markdown (*emphasis*, [link](https://...), - lists)"
IMAGE_MESSAGE = "images are not allowed in prose; link to the image instead, e.g. [map](https://...)"
LINK_MESSAGE = "link to '{}': only http, https and mailto links are allowed"
FOOTNOTE = re.compile(r"\[\^[^\]\s]+\]")  # [^1], Markdown's footnote mark, which prose does not take
TEASER_LENGTH = 300  # characters: about four lines of the catalogue
# A sentence's end: its marks and any closing quotes or brackets, before a space and a capital, a figure or an
# opening mark; not the full stop of an initial ("A. Lukashenko", "U.S.").
SENTENCE_END = re.compile(r"(?<![\s(.][A-ZА-ЯЁ])(?<=\S)[.!?…]+[»”’\"')\]]*(?=\s+[«“‘\"(\[]?[A-ZА-ЯЁ0-9])")
FOOTNOTE_MESSAGE = (
    "footnotes such as '{}' are not supported in prose; cite the source by its id in the item's sources instead"
)


def allowed_link(url: str) -> bool:
    """Whether prose may link to url: only web pages and e-mail addresses."""
    return url.strip().lower().startswith(ALLOWED_LINK_SCHEMES)


@functools.cache
def _markdown(quotes: str) -> "MarkdownIt":
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark", {"html": False, "typographer": True, "quotes": quotes})
    markdown.enable(["replacements", "smartquotes"])
    markdown.disable([*UNUSED_RULES, "image", "html_block", "html_inline"])
    markdown.validateLink = allowed_link
    return markdown


@functools.cache
def _permissive() -> "MarkdownIt":
    """The prose parser with raw HTML, images and every link let through, so that validation can find them."""
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark", {"html": True})
    markdown.disable(UNUSED_RULES)
    markdown.validateLink = lambda url: True
    return markdown


@functools.cache
def _plain(quotes: str) -> "MarkdownIt":
    """Only typography: for one-line text fields, where Markdown syntax is taken literally."""
    from markdown_it import MarkdownIt

    return MarkdownIt("zero", {"typographer": True, "quotes": quotes}).enable(["replacements", "smartquotes"])


def _flatten(tokens: Sequence["Token"]) -> Iterator["Token"]:
    """Every token, in document order, with the inline ones inside blocks and links."""
    for token in tokens:
        yield token
        yield from _flatten(token.children or ())


def prose_problem(text: str) -> str | None:
    """Why text is not fit for a prose field (raw HTML, an image, a link elsewhere than allowed, a footnote),
    or None."""
    env: dict[str, dict[str, dict[str, str]]] = {}
    for token in _flatten(_permissive().parse(text, env)):
        if token.type in ("html_block", "html_inline"):
            return RAW_HTML_MESSAGE
        if token.type == "image":
            return IMAGE_MESSAGE
        if token.type == "link_open" and not allowed_link(href := str(token.attrGet("href"))):
            return LINK_MESSAGE.format(href)
        if token.type == "text" and (footnote := FOOTNOTE.search(token.content)):
            return FOOTNOTE_MESSAGE.format(footnote.group())
    # a reference definition no link uses prints as text when its link is refused: refuse it too
    for reference in env.get("references", {}).values():
        if not allowed_link(reference["href"]):
            return LINK_MESSAGE.format(reference["href"])
    return None


def prose(text: str, quotes: str = ENGLISH_QUOTES) -> Markup:
    """Render a prose field as block HTML (paragraphs and lists)."""
    return Markup(_markdown(quotes).render(text))


def prose_inline(text: str, quotes: str = ENGLISH_QUOTES) -> Markup:
    """Render a one-paragraph prose field as inline HTML, without a wrapping paragraph."""
    return Markup(_markdown(quotes).renderInline(text))


def typographic(text: str, quotes: str = ENGLISH_QUOTES) -> Markup:
    """Escape a one-line text field and give it typographic quotes and dashes."""
    return Markup(_plain(quotes).renderInline(text))


def teaser(text: str, length: int = TEASER_LENGTH, quotes: str = ENGLISH_QUOTES) -> str:
    """A prose field as plain text of at most `length` characters, for a list of briefs: whole sentences when
    they fill at least half of that, else cut after a word, with an ellipsis."""
    plain = " ".join(prose(text, quotes).striptags().split())
    if len(plain) <= length:
        return plain
    ends = [end.end() for end in SENTENCE_END.finditer(plain) if end.end() <= length]
    if ends and ends[-1] >= length // 2:
        return plain[: ends[-1]]
    cut = plain.rfind(" ", 0, length)
    return plain[: cut if cut > 0 else length - 1].rstrip(",;:—–- ") + "…"
