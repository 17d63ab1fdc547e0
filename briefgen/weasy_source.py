"""The document WeasyPrint lays out, prepared at less cost than WeasyPrint prepares it itself.

Two costs of every render depend on nothing but the HTML, and are cut here (about a sixth of a render's
instructions for the sample):

- Parsing. WeasyPrint parses with tinyhtml5, in pure Python: about a ninth of a render. Lexbor (through
  selectolax), a C implementation of the same WHATWG parsing algorithm, builds the same document some
  twenty times faster, and it reaches WeasyPrint as the ElementTree tinyhtml5 would have built. A document
  with a <template> or MathML element, which the two store differently, is parsed by WeasyPrint itself.
- Styles nothing uses. WeasyPrint's default stylesheet styles the footnote and note pseudo-elements of
  every element, so each element gets five styles computed that only an element with `float: footnote`
  or `position: note()` ever reads. When no stylesheet and nothing in the HTML mentions `footnote` or
  `note(`, no element can be one, and those rules are left out. A stylesheet that spells the word
  with a CSS escape is not seen: the render then fails for want of those styles, and render() renders
  again with them. Its `::marker` rule likewise gives every element a marker style (831 for the sample,
  about 0.5% of a render's instructions) that only a list item reads; when nothing but the default
  stylesheet's own `li` rule can make an element a list item, the rule is kept for `li` alone. And its
  eighteen rules for elements with a `dir` attribute, or inside one, are tried against every element
  (0.5% of a render): they go when no element has the attribute.

Both lean on how WeasyPrint's HTML class is put together (the attributes its constructor sets, the method
that lists its default stylesheets); tests/test_weasy_source.py holds the trees and the PDFs to what
WeasyPrint makes alone.
"""

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin
from xml.etree import ElementTree

import cssselect2
import tinycss2
import weasyprint
from selectolax.lexbor import LexborHTMLParser, LexborNode
from weasyprint.html import UA, UA_COUNTER_STYLE
from weasyprint.urls import FatalURLFetchingError

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
XML = "http://www.w3.org/XML/1998/namespace"
XMLNS = "http://www.w3.org/2000/xmlns/"
# The attribute names the HTML standard puts in a namespace on SVG elements ("adjust foreign attributes").
FOREIGN_ATTRIBUTES = {
    **{f"xlink:{name}": f"{{{XLINK}}}{name}" for name in ("actuate", "arcrole", "href", "role", "show", "title")},
    "xlink:type": f"{{{XLINK}}}type",
    **{f"xml:{name}": f"{{{XML}}}{name}" for name in ("base", "lang", "space")},
    "xmlns": f"{{{XMLNS}}}xmlns",
    "xmlns:xlink": f"{{{XMLNS}}}xlink",
}
HTML_INSIDE_SVG = frozenset({"foreignObject", "desc", "title"})  # SVG elements whose children are HTML
STORED_DIFFERENTLY = re.compile(r"<(?:template|math)\b", re.IGNORECASE)
NOTE_RULE = re.compile(r"^::(?:footnote-call|footnote-marker|note-call|note-marker|note-callback) \{[^}]*\}\n", re.M)
MENTIONS_NOTES = ("footnote", "note(", "<link", "@import")  # the last two: stylesheets not seen here
MARKER_RULE = re.compile(r"^::marker \{", re.M)
LIST_ITEM_RULE = re.compile(r"([^{}]*)\{[^}]*\bdisplay:\s*list-item\b")  # a rule of the defaults making list items
# A rule of the defaults whose one selector (commas only inside parentheses) asks for a dir attribute.
DIR_RULE = re.compile(r"^(?:[^{}(),\n]|\([^()\n]*\))*\[dir\b(?:[^{}(),\n]|\([^()\n]*\))*\{[^}]*\}\n", re.M)


@dataclass(frozen=True)
class Lean:
    """What a render leaves out of WeasyPrint's default stylesheet, each only when nothing can need it."""

    notes: bool = False  # the rules for footnote and note pseudo-elements
    markers: bool = False  # the ::marker rule, for every element but li
    direction: bool = False  # the rules for elements with a dir attribute or inside one, if no element has one


def render(
    html: str, base_url: str, url_fetcher: weasyprint.URLFetcher, css_texts: Sequence[str], **options: Any
) -> weasyprint.Document:
    """WeasyPrint's render of the HTML, styled by stylesheets whose texts are css_texts, with WeasyPrint's options:
    leaving out of WeasyPrint's defaults what nothing can need (Lean), and rendered again with the full defaults
    when a render without the note rules fails."""
    lean = Lean(
        notes=may_leave_out_notes(html, css_texts), markers=may_leave_out_markers(html, css_texts), direction=True
    )
    try:
        return document(html, base_url, url_fetcher, lean=lean).render(**options)
    except FatalURLFetchingError:  # a resource refused fails the brief whatever the styles
        raise
    except Exception:
        if not lean.notes:
            raise
        return document(html, base_url, url_fetcher, lean=Lean()).render(**options)  # a note the texts hide


def document(html: str, base_url: str, url_fetcher: weasyprint.URLFetcher, *, lean: Lean) -> weasyprint.HTML:
    """The HTML document for WeasyPrint to render, styled without the default rules lean leaves out."""
    if STORED_DIFFERENTLY.search(html):
        return weasyprint.HTML(string=html, base_url=base_url, url_fetcher=url_fetcher)
    return _Parsed(_tree(html), base_url, url_fetcher, lean=lean)


def may_leave_out_notes(html: str, stylesheets: Sequence[str]) -> bool:
    """Whether nothing in the HTML or the stylesheets can make an element a footnote or a note."""
    return not any(word in text.lower() for text in (html, *stylesheets) for word in MENTIONS_NOTES)


def may_leave_out_markers(html: str, stylesheets: Sequence[str]) -> bool:
    """Whether only the default stylesheet's li rule can make an element a list item: the HTML neither says
    `list-item` nor holds a backslash (a CSS escape could spell it) nor links a stylesheet, and no stylesheet
    names it, however escaped, nor imports one."""
    lowered = html.lower()
    if "list-item" in lowered or "\\" in html or "<link" in lowered:
        return False
    return not any(_may_make_list_items(css) for css in stylesheets)


@functools.lru_cache(maxsize=64)
def _may_make_list_items(css: str) -> bool:
    """Whether a stylesheet names `list-item`, in any spelling, or imports another."""
    if "\\" not in css:
        lowered = css.lower()
        return "list-item" in lowered or "@import" in lowered
    return any(_names_list_item_or_imports(tinycss2.parse_component_value_list(css)))


def _names_list_item_or_imports(tokens: Iterable[Any]) -> Iterable[bool]:
    for token in tokens:
        if token.type == "ident":
            yield token.lower_value == "list-item"
        elif token.type == "at-keyword":
            yield token.lower_value == "import"
        elif token.type in {"() block", "[] block", "{} block", "function"}:
            yield from _names_list_item_or_imports(token.content if token.type != "function" else token.arguments)


class _Parsed(weasyprint.HTML):
    """An HTML document whose tree is already built, as weasyprint.HTML's constructor would have set it up."""

    def __init__(self, root: ElementTree.Element, base_url: str, url_fetcher: weasyprint.URLFetcher, *, lean: Lean):
        self.base_url = _document_base_url(root, base_url)
        self.url_fetcher = url_fetcher
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element
        self.lean = replace(lean, direction=False) if lean.direction and _has_dir(root) else lean

    def _ua_stylesheets(self, forms: bool = False) -> list[weasyprint.CSS]:
        defaults = super()._ua_stylesheets(forms)
        lean = _lean_defaults(self.lean)
        if lean is None:
            return defaults
        return [lean if sheet is weasyprint.UA_STYLESHEET else sheet for sheet in defaults]


def _has_dir(root: ElementTree.Element) -> bool:
    return any("dir" in element.attrib for element in root.iter())


def _document_base_url(root: ElementTree.Element, fallback: str) -> str:
    """The first <base href> resolved against fallback, else fallback: the HTML standard's document base URL."""
    base = next(root.iter("base"), None)
    href = "" if base is None else base.get("href", "").strip()
    return urljoin(fallback, href) if href else fallback


@functools.cache
def _lean_defaults(lean: Lean) -> weasyprint.CSS | None:
    """WeasyPrint's default stylesheet without what lean leaves out: its rules for footnotes and notes (five in
    WeasyPrint 70, the three for footnotes before), its ::marker rule for all but li (only while li is all it
    makes a list item), its rules for elements with a dir attribute or in one; None if it has nothing to leave
    out in the form looked for."""
    text, changed = UA, 0
    if lean.notes:
        text, dropped = NOTE_RULE.subn("", text)
        changed += dropped
    if lean.markers and [found.strip() for found in LIST_ITEM_RULE.findall(UA)] == ["li"]:
        text, narrowed = MARKER_RULE.subn("li::marker {", text)
        changed += narrowed
    if lean.direction:
        text, dropped = DIR_RULE.subn("", text)
        changed += dropped
    return weasyprint.CSS(string=text, counter_style=UA_COUNTER_STYLE) if changed else None


def _tree(html: str) -> ElementTree.Element:
    """The <html> element of the document, as tinyhtml5 builds it for WeasyPrint: HTML elements without a
    namespace, SVG ones in SVG's, comments kept, text in .text and .tail."""
    root_node = LexborHTMLParser(html).root
    root = ElementTree.Element(root_node.tag)
    _copy_attributes(root_node, root, foreign=False)
    pending: list[tuple[LexborNode, ElementTree.Element, bool]] = [(root_node, root, False)]
    while pending:
        node, element, in_svg = pending.pop()
        children_in_svg = in_svg and node.tag not in HTML_INSIDE_SVG
        last: ElementTree.Element | None = None
        child = node.child
        while child is not None:
            tag = child.tag
            if tag == "-text":
                if last is None:
                    element.text = (element.text or "") + child.text_content
                else:
                    last.tail = (last.tail or "") + child.text_content
            elif tag == "-comment":
                last = ElementTree.Comment(child.comment_content)
                element.append(last)
            elif tag[0].isalpha():
                foreign = children_in_svg or tag == "svg"
                last = ElementTree.SubElement(element, f"{{{SVG}}}{tag}" if foreign else tag)
                _copy_attributes(child, last, foreign)
                pending.append((child, last, foreign))
            child = child.next
    return root


def _copy_attributes(node: LexborNode, element: ElementTree.Element, foreign: bool) -> None:
    for name, value in node.attributes.items():
        element.set(FOREIGN_ATTRIBUTES.get(name, name) if foreign else name, "" if value is None else value)
