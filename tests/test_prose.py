"""Prose fields: a safe Markdown subset (emphasis, links, lists), never raw HTML, scripts or images."""

import re
from pathlib import Path

import pytest
from helpers import SAMPLE_TEXT, assert_no_traceback, line_of, make_project, replace_line, run_briefgen
from markupsafe import Markup

from briefgen.prose import prose, prose_inline, prose_problem


def test_emphasis() -> None:
    assert prose("*six* leaders, **one** veto") == "<p><em>six</em> leaders, <strong>one</strong> veto</p>\n"


@pytest.mark.parametrize(
    "url",
    ["https://example.org/csto?a=1&b=2", "http://example.org/", "mailto:desk@example.org", "HTTPS://EXAMPLE.ORG/"],
)
def test_links_with_allowed_schemes(url: str) -> None:
    html = prose(f"see [the report]({url})")
    hrefs = re.findall(r'<a href="([^"]*)">the report</a>', html)
    assert len(hrefs) == 1
    assert hrefs[0].replace("&amp;", "&").lower() == url.lower()


def test_bullet_and_numbered_lists() -> None:
    assert prose("- Armenia\n- Belarus") == "<ul>\n<li>Armenia</li>\n<li>Belarus</li>\n</ul>\n"
    assert prose("1. first\n2. second") == "<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n"


def test_the_samples_list_prose_renders_as_a_list() -> None:
    html = prose("Three options:\n\n- *Stanislav Zas*, the Belarusian\n- *Valery Semerikov*\n- a new nominee\n")
    assert html.count("<li>") == 3
    assert "<li><em>Stanislav Zas</em>, the Belarusian</li>" in html


def test_result_is_markup_so_templates_do_not_escape_it_again() -> None:
    assert isinstance(prose("x"), Markup)
    assert isinstance(prose_inline("x"), Markup)


def test_inline_prose_has_no_paragraph() -> None:
    assert prose_inline("*a* and [b](https://example.org/)") == '<em>a</em> and <a href="https://example.org/">b</a>'


@pytest.mark.parametrize(
    "raw",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "<iframe src=https://example.org>",
        "a <b onmouseover=alert(1)>b</b>",
        "<!-- hidden -->",
    ],
)
def test_raw_html_is_escaped(raw: str) -> None:
    html = prose(raw)
    assert "&lt;" in html
    assert not re.search(r"<(script|img|iframe|b |!--)", html), html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "jav&#x61;script:alert(1)",
        "javascript&colon;alert(1)",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "//evil.example/x",
        "/etc/passwd",
    ],
)
def test_links_with_other_schemes_are_not_links(url: str) -> None:
    for html in (prose(f"[click]({url})"), prose(f"[click][r]\n\n[r]: {url}"), prose_inline(f"[click]({url})")):
        assert "<a" not in html, html
        assert "href" not in html, html


def test_autolinks_to_scripts_are_not_links() -> None:
    html = prose("<javascript:alert(1)>")
    assert "<a" not in html


def test_autolinks_to_allowed_schemes_are_links() -> None:
    assert prose_inline("<https://example.org/csto>") == (
        '<a href="https://example.org/csto">https://example.org/csto</a>'
    )
    assert prose_inline("<desk@example.org>") == '<a href="mailto:desk@example.org">desk@example.org</a>'


@pytest.mark.parametrize(
    "markdown",
    [
        "[a](https://example.org/)",
        "[a](mailto:desk@example.org)",
        "<http://example.org/>",
        "<desk@example.org>",
        "- *[a](https://example.org/)*",
        "[a][r]\n\n[r]: https://example.org/",
        "[a](javascript:alert(1))",
        "[a](ftp://example.org/)",
        "[a](other.html)",
        "<ftp://example.org/>",
        "[a][r]\n\n[r]: javascript:alert(1)",
        "- **[a](vbscript:msgbox(1))**",
    ],
)
def test_what_validation_accepts_is_what_renders_as_a_link(markdown: str) -> None:
    """A link is either refused by validation or rendered: never printed as its Markdown."""
    assert (prose_problem(markdown) is None) == ("<a href" in prose(markdown)), prose(markdown)


def test_link_titles_cannot_break_out_of_the_attribute() -> None:
    html = prose('[x](https://example.org/ "t\\" onmouseover=\\"alert(1)")')
    assert not re.search(r'"\s+onmouseover=', html), html


@pytest.mark.parametrize(
    "image",
    [
        "![map](https://example.org/map.png)",
        "![map][m]\n\n[m]: https://example.org/map.png",
        "![x](file:///etc/passwd)",
    ],
)
def test_images_are_not_rendered(image: str) -> None:
    html = prose(image)
    assert "<img" not in html
    assert "/etc/passwd" not in re.findall(r'href="([^"]*)"', html)


def test_headings_are_not_rendered() -> None:
    assert "<h1" not in prose("# Not a heading")


def test_prose_in_a_built_brief_keeps_markdown_and_links(tmp_path: Path) -> None:
    line = line_of(SAMPLE_TEXT, "  Astana exposed a Collective Security Treaty Organization that lines up")
    text = replace_line(
        SAMPLE_TEXT,
        line,
        "Astana exposed",
        "*Astana* exposed [treaty](https://example.org/inf) <https://example.org/csto> <desk@example.org>",
    )
    root = make_project(tmp_path / "p", {"brief.yaml": text})
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    html = (root / "build" / "brief.html").read_text(encoding="utf-8")
    assert "<em>Astana</em> exposed" in html
    assert '<a href="https://example.org/inf">treaty</a>' in html
    assert '<a href="https://example.org/csto">https://example.org/csto</a>' in html
    assert '<a href="mailto:desk@example.org">desk@example.org</a>' in html


def test_a_brief_with_a_script_link_in_prose_is_not_built(tmp_path: Path) -> None:
    line = line_of(SAMPLE_TEXT, "  Astana exposed a Collective Security Treaty Organization that lines up")
    text = replace_line(SAMPLE_TEXT, line, "Astana exposed", "Astana [exposed](javascript:alert(1))")
    root = make_project(tmp_path / "p", {"brief.yaml": text})
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "link to 'javascript:alert(1)': only http, https and mailto links are allowed" in proc.stderr
    assert not (root / "build" / "brief.html").exists()


def test_a_markdown_footnote_in_prose_is_refused_where_it_stands(tmp_path: Path) -> None:
    line = line_of(SAMPLE_TEXT, "  Astana exposed a Collective Security Treaty Organization that lines up")
    text = replace_line(SAMPLE_TEXT, line, "Astana exposed", "Astana[^note] exposed")
    root = make_project(tmp_path / "p", {"brief.yaml": text})
    proc = run_briefgen("validate", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert f"sources/brief.yaml:{line_of(SAMPLE_TEXT, 'bottom_line:')}:14: error: footnotes" in proc.stderr
    assert "footnotes such as '[^note]' are not supported in prose" in proc.stderr
