"""The safe Markdown subset of prose fields: emphasis, links and lists, never raw HTML."""

from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_LINK_SCHEMES = ("https://", "http://", "mailto:")

_markdown = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(["replacements", "smartquotes"])
_markdown.disable(["image", "heading", "lheading", "code", "fence", "html_block", "html_inline", "hr"])
_markdown.validateLink = lambda url: url.strip().lower().startswith(ALLOWED_LINK_SCHEMES)


def prose(text: str) -> Markup:
    """Render a prose field as block HTML (paragraphs and lists)."""
    return Markup(_markdown.render(text))


def prose_inline(text: str) -> Markup:
    """Render a one-paragraph prose field as inline HTML, without a wrapping paragraph."""
    return Markup(_markdown.renderInline(text))
