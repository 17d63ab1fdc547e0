"""Custom properties folded into the print stylesheets: the PDF stays the one WeasyPrint prints, var()s and all."""

from pathlib import Path

import pytest
import tinycss2
from helpers import SAMPLE_ID, assert_no_traceback, make_project, pdf_decompressed, run_briefgen, weasyprint_command_pdf
from hypothesis import given, settings
from hypothesis import strategies as st

from briefgen import custom_properties
from briefgen.pipeline import Format, Project, print_html, render_brief

# Each rule is a way a var() can mean something else than the value `:root` gives it; each element shows one.
TRICKY_CSS = """
:root { --red: #c00000; --blue: #0000c0; --c: var(--red); --chain: var(--blue); }
.b { --c: var(--blue); }
:root { --d-x: #c00000; }
.u { --d_x: #0000c0; }
:root { --e: #c00000 !important; }
:root { --e: #0000c0; }
:root { --f: #c00000; }
@media print { :root { --f: #0000c0; } }
:root { --w: #c00000; --n: 30; --x: var(--y); --y: var(--x); --fam: sans; --h: #c00000; }
@layer base { :root { --h: #0000c0; } }
.c { color: var(--c); }
.d { color: var(--d-x); }
.e { color: var(--e); }
.f { color: var(--f); }
.w { background: #000; height: 8pt; width: 50%; width: var(--w); }
.n { background: #000; height: 8pt; width: 20pt; margin-left: var(--n)px; }
.cy { color: var(--x, #0000c0); }
.ch { color: var(--chain); }
.m { font-family: var(--fam)-serif; }
.h { color: var(--h); }
@page { @top-center { content: "Top"; color: var(--red); } }
"""
TRICKY_BODY = """
<p class="b"><span class="c">set by a class</span></p>
<p class="u"><span class="d">spelt with an underscore</span></p>
<p class="e">important</p>
<p class="f">in a media rule</p>
<div class="w"></div>
<div class="n"></div>
<p class="cy">a cycle and a fallback</p>
<p class="ch">a chain</p>
<p class="m">joined to the text after it</p>
<p class="h">also set in a layer</p>
<p class="c">plain</p>
"""
TEMPLATE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>{{ assessment.brief.title }}</title>\n'
    "{% call style() %}CSS{% endcall %}\n</head>\n<body>\nBODY\n</body>\n</html>\n"
)


@pytest.mark.parametrize(
    "body",
    [TRICKY_BODY, TRICKY_BODY + '<p style="--chain: #c00000"><span class="ch">set by a style attribute</span></p>'],
    ids=["stylesheets", "and a style attribute"],
)
def test_the_pdf_is_the_one_weasyprint_prints_from_the_var_functions(body: str, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_text(
        TEMPLATE.replace("CSS", TRICKY_CSS).replace("BODY", body), encoding="utf-8"
    )
    project, path = Project.open(root), root / "sources" / f"{SAMPLE_ID}.yaml"
    ours = render_brief(path, project, [Format.PDF]).outputs[Format.PDF]
    assert pdf_decompressed(ours) == pdf_decompressed(weasyprint_command_pdf(print_html(path, project), root, tmp_path))


def test_only_the_var_functions_whose_value_is_the_same_everywhere_are_folded() -> None:
    [folded] = custom_properties.folded("<p>x</p>", [TRICKY_CSS])
    rules = {line.split(" {")[0]: line for line in folded.text.splitlines()}
    assert rules[".ch"] == ".ch { color: #0000c0; }"  # a chain of two, resolved
    assert rules[".f"] == ".f { color: var(--f); }"  # also set in a media rule
    for selector in (".c", ".d", ".e", ".cy", ".h"):  # set by a class, under another spelling, important,
        assert "var(" in rules[selector], rules[selector]  # in a cycle, in an at-rule
    assert rules[".m"] == ".m { font-family: var(--fam)-serif; }"  # "sans" and "-serif" would read as one
    assert rules[".w"].endswith("width: var(--w); }")  # invalid substituted: invalid per element, as before
    assert rules[".n"].endswith("margin-left: var(--n)px; }")  # 30 and px would read as one token
    assert "color: var(--red)" in rules["@page"]  # margin boxes are left alone
    breaks_weasyprint = ":root { --g: / }\n.g { grid: var(--g); }\n"  # its grid validator raises IndexError
    assert custom_properties.folded("<p>x</p>", [breaks_weasyprint])[0].text == breaks_weasyprint
    [untouched] = custom_properties.folded('<p style="--chain: red">x</p>', [TRICKY_CSS])
    assert untouched.text == TRICKY_CSS


def test_the_built_in_stylesheets_keep_no_var_function_for_the_printer() -> None:
    """What makes a render cheaper: every var() of the built-in brief and print styles is folded."""
    root = Path(__file__).parents[1]
    styles = (root / "templates" / "common" / name for name in ("brief.css", "print.css"))
    texts = [css.read_text(encoding="utf-8") for css in styles]
    assert all("var(" in text for text in texts)
    assert not any("var(" in folded.text for folded in custom_properties.folded("<p>x</p>", texts))


def test_a_warning_after_a_folded_var_keeps_its_column(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "templates").mkdir()
    css = ":root { --ink: #111111; }\nbody { color: var(--ink); colr: red; margin: 0; color: var(--ink); x: 1; }\n"
    (root / "templates" / "brief.css").write_text(css, encoding="utf-8")
    proc = run_briefgen("build", "--format", "pdf", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stderr.splitlines() if "PDF printer" in line] == [
        "templates/brief.css:2:27: warning: the PDF printer ignores `colr: red`, unknown property",
        "templates/brief.css:2:68: warning: the PDF printer ignores `x: 1`, unknown property",
    ]


CSS_OPENINGS = [":root {", ".x {", "@media print {", "@page {", "@top-center {", "@layer l {", "@import 'x.css';"]
CSS_PROPERTIES = ["--a:", "--a-b: ", "--a_b:", "color: ", "width:", "font-family:", "margin: 0 "]
CSS_VALUES = ["var(--a)", "var(--a-b)", "var(--a, red)", "var(", "#fff", "10", "px", "red", "url(a.png)", "calc("]
CSS_WORDS = ["inherit", "!important", "é"]
CSS_PUNCTUATION = ["}", "{", "(", ")", " ", ";", ",", "&", '"', "'", "/*", "*/", "\\", "\n", "\r\n", "\f", "\x00"]
CSS_FRAGMENTS = CSS_OPENINGS + CSS_PROPERTIES + CSS_VALUES + CSS_WORDS + CSS_PUNCTUATION
WHOLE_RULES = [
    ":root { --a: red; --a-b: 1px solid blue; }\n",
    ".x { color: var(--a); margin: 0 }\n",
    ".y { border: var(--a-b); color: var(--a) !important; }\n",
    "p { width: var(--a); border-top: var(--a-b) }\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CSS_FRAGMENTS) | st.sampled_from(WHOLE_RULES), max_size=40).map("".join))
def test_any_stylesheet_folds_without_error_and_keeps_its_lines(css: str) -> None:
    """Whatever the text, folding returns a stylesheet of as many lines and rules, with nothing left to fold."""
    [folded] = custom_properties.folded("<p>x</p>", [css])
    assert lines_as_tinycss2_counts(folded.text) == lines_as_tinycss2_counts(css)
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    assert len(tinycss2.parse_stylesheet(folded.text, skip_comments=True, skip_whitespace=True)) == len(rules)
    assert custom_properties.folded("<p>x</p>", [folded.text])[0].text == folded.text


def lines_as_tinycss2_counts(css: str) -> int:
    return css.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").count("\n")
