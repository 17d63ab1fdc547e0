"""The document handed to WeasyPrint: the tree WeasyPrint would have built, and the same PDF (its streams
decompressed: briefgen deflates them with zlib-ng, the weasyprint command with zlib)."""

from pathlib import Path
from xml.etree import ElementTree

import pytest
import weasyprint
from helpers import (
    SAMPLE_ID,
    assert_no_traceback,
    make_project,
    pdf_decompressed,
    pdf_text,
    run_briefgen,
    weasyprint_command_pdf,
)

from briefgen import weasy_source
from briefgen.pipeline import Format, Project, print_html, render_brief

# What HTML parsers get wrong, one case each: the standard's tree-building rules, foreign content,
# character references, and what the two parsers store differently (template, MathML).
TRICKY_HTML = {
    "foster-parented text": "<table><tr><td>a</td></tr>x<b>y</b></table>",
    "implied end tags": "<p>one<p>two<ul><li>a<li>b</ul>",
    "svg names in camel case": '<svg viewbox="0 0 1 1"><lineargradient id=g /><clippath/></svg>',
    "html inside svg": "<svg><foreignObject><p>hi<svg><circle/></svg></p></foreignObject><desc><p>d</desc></svg>",
    "svg left by an html tag": "<svg><rect/><p>out</p></svg>after<svg><font color=red>x</font><font>y</font></svg>",
    "namespaced attributes": '<svg><use xlink:href="#a" xml:lang="en" xmlns:xlink="http://www.w3.org/1999/xlink"/></svg>'
    '<p xml:lang="en" xlink:href="x">t</p>',
    "character references": "<p>&amp; &nbsp; &notit; &#x1F600; &#0; &#x80; &lt</p>",
    "nul and control characters": "<p>a\x00b\x01\x0b\x7f</p><svg><text>c\x00d</text></svg>",
    "line ends": "<p>a\r\nb\rc</p>",
    "comments": "<!--top--><html><!--h--><body>a<!--c-->b<?xml pi?></body></html><!--end-->",
    "attributes without values or twice": "<details open><summary>s</summary></details><p class=a class=b ID=x>t</p>",
    "first newline of pre": "<pre>\nfirst</pre><textarea>\nx</textarea>",
    "misnested formatting": "<p><b><i>x</b>y</i>z</p>",
    "raw text": "<style>a<b>c</style><script>if(a<b){}</script><title>a &amp; <b></title>",
    "head and whitespace": "<!DOCTYPE html>\n<html>\n<head>\n<title>t</title>\n</head>\n<body>\n<p>x</p>\n</body>\n",
    "upper-case tags": "<SVG><RECT/></SVG><P>x</P>",
    "template": "<template><p>t</p></template><p>after</p>",
    "mathml": "<math><mi>x</mi><annotation-xml encoding='text/html'><p>h</p></annotation-xml></math>",
}


ALL_LEAN = weasy_source.Lean(notes=True, markers=True)


def shape(element: ElementTree.Element) -> list[tuple]:
    """Everything of a tree that WeasyPrint reads, in document order."""
    return [
        (node.tag if isinstance(node.tag, str) else "comment", dict(node.attrib), node.text, node.tail, len(node))
        for node in element.iter()
    ]


@pytest.mark.parametrize("html", TRICKY_HTML.values(), ids=TRICKY_HTML.keys())
def test_the_tree_is_the_one_weasyprint_builds(html: str) -> None:
    ours = weasy_source.document(html, "file:///p/", weasyprint.URLFetcher(), lean=ALL_LEAN)
    theirs = weasyprint.HTML(string=html, base_url="file:///p/")
    assert shape(ours.etree_element) == shape(theirs.etree_element)


def test_the_tree_of_the_sample_is_the_one_weasyprint_builds() -> None:
    html = print_html(Path("sources") / f"{SAMPLE_ID}.yaml", Project.open(Path(__file__).parents[1]))
    ours = weasy_source.document(html, "file:///p/", weasyprint.URLFetcher(), lean=ALL_LEAN)
    theirs = weasyprint.HTML(string=html, base_url="file:///p/")
    assert len(shape(theirs.etree_element)) > 500
    assert shape(ours.etree_element) == shape(theirs.etree_element)


@pytest.mark.parametrize("href", ["", "  ", "assets/", "https://example.org/x/"])
def test_the_base_url_is_the_documents(href: str) -> None:
    html = f'<head><base href="{href}"><base href="ignored/"></head><p>x'
    ours = weasy_source.document(html, "file:///p/", weasyprint.URLFetcher(), lean=ALL_LEAN)
    assert ours.base_url == weasyprint.HTML(string=html, base_url="file:///p/").base_url


@pytest.mark.parametrize(
    ("source", "theme"),
    [(SAMPLE_ID, None), (SAMPLE_ID, "memo"), (f"{SAMPLE_ID}.ru", None)],
)
def test_the_pdf_is_the_one_the_weasyprint_command_prints(source: str, theme: str | None, tmp_path: Path) -> None:
    """Object for object, streams decompressed: our tree and our lean defaults change nothing WeasyPrint draws."""
    root = Path(__file__).parents[1]
    project = Project.open(root, theme=theme)
    path = root / "sources" / f"{source}.yaml"
    ours = render_brief(path, project, [Format.PDF]).outputs[Format.PDF]
    assert pdf_decompressed(ours) == pdf_decompressed(weasyprint_command_pdf(print_html(path, project), root, tmp_path))


def rendered_with_template(template: str, tmp_path: Path) -> Path:
    """A new project whose brief template is template, its sample rendered to out.pdf by the command line."""
    root = make_project(tmp_path / "p")
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_text(template, encoding="utf-8")
    proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", "out.pdf", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    return root


def assert_the_weasyprint_commands_pdf(root: Path, tmp_path: Path) -> None:
    """The project's out.pdf is the PDF the weasyprint command prints from the sample's print HTML."""
    html = print_html(root / "sources" / f"{SAMPLE_ID}.yaml", Project.open(root))
    theirs = weasyprint_command_pdf(html, root, tmp_path)
    assert pdf_decompressed((root / "out.pdf").read_bytes()) == pdf_decompressed(theirs)


FOOTNOTE_TEMPLATE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>{{ assessment.brief.title }}</title>\n'
    "{% call style() %}.source { float: FLOAT; }{% endcall %}\n</head>\n<body>\n"
    '<p>The claim<span class="source">Where the claim comes from.</span> stands.</p>\n</body>\n</html>\n'
)


@pytest.mark.parametrize("written", ["footnote", r"foot\6e ote"], ids=["in plain words", "with a css escape"])
def test_footnotes_keep_their_calls_and_markers(written: str, tmp_path: Path) -> None:
    """Footnotes need the default styles left out of lean renders: a stylesheet that names them gets them,
    and one that spells the word so that it is not seen gets them on a second try."""
    root = rendered_with_template(FOOTNOTE_TEMPLATE.replace("FLOAT", written), tmp_path)
    text = pdf_text(root / "out.pdf")
    assert "The claim1 stands." in text, text
    assert "1. Where the claim comes from." in text, text


@pytest.mark.parametrize(
    ("html", "css", "lean"),
    [
        ("<p class=note>x</p>", ".table-note { color: red }", True),
        ("<p>x</p>", "aside { float: FootNote }", False),
        ('<p style="position: note(side)">x</p>', "", False),
        ("<p>x</p>", ":root { --where: NOTE(side) }", False),
        ('<link rel="stylesheet" href="more.css"><p>x</p>', "", False),
        ("<p>x</p>", '@import "more.css";', False),
    ],
)
def test_lean_only_when_no_stylesheet_can_make_a_note(html: str, css: str, lean: bool) -> None:
    assert weasy_source.may_leave_out_notes(html, [css]) is lean


@pytest.mark.parametrize(
    ("html", "css", "lean"),
    [
        ("<ul><li>x</li></ul>", "li::marker { color: red } ul { list-style: square }", True),
        ("<p>x</p>", ".steps { display: List-Item }", False),
        ("<p>x</p>", r".steps { display: list\-item } .q::before { content: '\201C' }", False),
        ("<p>x</p>", r".q::before { content: '\201C' }", True),
        ("<p>x</p>", ":root { --shown-as: list-item }", False),
        ("<p>x</p>", "ol { counter-reset: list-item 3 }", False),
        ("<p>x</p>", '@import "more.css";', False),
        ('<p style="display: list-item">x</p>', "", False),
        ('<p style="display: list\\-item">x</p>', "", False),
        ('<link rel="stylesheet" href="more.css"><p>x</p>', "", False),
    ],
)
def test_lean_markers_only_when_nothing_but_li_can_be_a_list_item(html: str, css: str, lean: bool) -> None:
    assert weasy_source.may_leave_out_markers(html, [css]) is lean


LIST_ITEM_TEMPLATE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>{{ assessment.brief.title }}</title>\n'
    "{% call style() %}.step { display: DISPLAY; list-style: lower-alpha inside; text-transform: uppercase; }"
    '{% endcall %}\n</head>\n<body>\n<div class="step">first step</div><div class="step">second step</div>\n'
    "<ol><li>plain item</li></ol>\n</body>\n</html>\n"
)


@pytest.mark.parametrize("written", ["list-item", r"list\-item"], ids=["in plain words", "with a css escape"])
def test_list_items_of_a_stylesheet_keep_their_marker_styles(written: str, tmp_path: Path) -> None:
    """An element a stylesheet makes a list item gets the default marker style (text-transform: none, so its
    marker stays lower-case under an upper-case item), whichever way the stylesheet spells list-item: the PDF
    is the weasyprint command's."""
    root = rendered_with_template(LIST_ITEM_TEMPLATE.replace("DISPLAY", written), tmp_path)
    text = pdf_text(root / "out.pdf")
    assert "a. FIRST STEP" in text, text
    assert "b. SECOND STEP" in text, text
    assert_the_weasyprint_commands_pdf(root, tmp_path)


DIR_TEMPLATE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>{{ assessment.brief.title }}</title>\n</head>\n<body>\n'
    "<p>Read from the left.</p>\n<section dir=RTL><p>Read from the right.</p><ul><li>one item</li></ul>"
    "<dl><dt>term</dt><dd>its definition</dd></dl></section>\n</body>\n</html>\n"
)


def test_elements_with_a_dir_attribute_keep_their_default_styles(tmp_path: Path) -> None:
    """The default rules for a dir attribute, left out of documents without one, apply where there is one:
    the PDF is the weasyprint command's."""
    root = rendered_with_template(DIR_TEMPLATE, tmp_path)
    assert_the_weasyprint_commands_pdf(root, tmp_path)
