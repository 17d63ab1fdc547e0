"""Stage 4, render HTML: the brief's data reaches the page, escaped, through overridable templates."""

import json
import re
from pathlib import Path

import pytest
from helpers import (
    SAMPLE_ID,
    SAMPLE_TEXT,
    assert_likelihoods_beside_judgments,
    assert_no_traceback,
    html_head,
    html_text,
    line_of,
    make_project,
    replace_line,
    run_briefgen,
)

# --- the sample's data reaches the page ---------------------------------------------------------


def test_document_language_title_and_dates(sample_html: str, sample_data: dict) -> None:
    head = html_head(sample_html)
    assert head.html_attrs.get("lang") == "en"
    assert head.title is not None and head.title.strip() == sample_data["brief"]["title"]
    assert head.meta.get("dcterms.created") == ["2018-11-16"]
    assert head.meta.get("dcterms.modified") == ["2018-11-16"]


def test_every_judgment_shows_its_likelihood_word_and_range(sample_html: str, sample_data: dict) -> None:
    assert_likelihoods_beside_judgments(html_text(sample_html).text, sample_data["key_judgments"])


def test_every_member_is_in_the_cohesion_table(sample_html: str, sample_data: dict) -> None:
    issue_titles = [issue["title"] for issue in sample_data["cohesion"]["issues"]]
    tables = [table for table in html_text(sample_html).tables if issue_titles[0] in table]
    assert tables, "no table lists the contested issues"
    table = tables[0]
    for title in issue_titles:
        assert title in table
    for member in sample_data["event"]["members"]:
        assert member["name"] in table, f"{member['name']} is missing from the cohesion table"


def test_every_source_title_and_outcome_and_scenario(sample_html: str, sample_data: dict) -> None:
    text = html_text(sample_html).text
    for source in sample_data["sources"]:
        assert " ".join(source["title"].split()) in text
    for outcome in sample_data["outcomes"]:
        assert outcome["title"].replace("\u2019", "'") in text
    for scenario in sample_data["outlook"]["scenarios"]:
        assert scenario["title"].replace("\u2019", "'") in text


def test_the_standalone_html_does_not_point_at_local_files(sample_html: str) -> None:
    assert "file:" not in sample_html
    assert "/work/" not in sample_html and "/tmp/" not in sample_html


# --- escaping -----------------------------------------------------------------------------------


def test_text_fields_are_autoescaped(tmp_path: Path) -> None:
    title = line_of(SAMPLE_TEXT, "  title: ")
    author = line_of(SAMPLE_TEXT, "    - name: Eurasia Security Desk")
    text = replace_line(
        SAMPLE_TEXT, title, SAMPLE_TEXT.split("\n")[title - 1], '  title: "Sample <script>alert(1)</script> brief"'
    )
    text = replace_line(text, author, "Eurasia Security Desk", "'Desk\" onmouseover=\"alert(2)'")
    root = make_project(tmp_path / "p", {"brief.yaml": text})
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    html = (root / "build" / "brief.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert not re.search(r'"\s*onmouseover="alert', html)
    assert html_head(html).title.strip() == "Sample <script>alert(1)</script> brief"


# --- project templates ----------------------------------------------------------------------------

MINIMAL = """<!DOCTYPE html>
<html lang="{{ assessment.brief.language }}">
<head><meta charset="utf-8"><title>{{ assessment.brief.title }}</title></head>
<body><p>project override for {{ analysis.brief_id }}</p></body>
</html>
"""


def render_with(tmp_path: Path, templates: dict[str, str], output: str = "out.html"):
    root = make_project(tmp_path / "p")
    for name, content in templates.items():
        path = root / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", output, cwd=root)
    assert_no_traceback(proc)
    return root, proc


def test_a_project_template_overrides_the_built_in(tmp_path: Path) -> None:
    root, proc = render_with(tmp_path, {"brief.html.j2": MINIMAL})
    assert proc.returncode == 0, proc.stderr
    html = (root / "out.html").read_text(encoding="utf-8")
    assert "project override for csto-astana-2018" in html
    assert "CSTO summit in Astana: A mixed picture of cohesion" not in html  # the built-in lists the sources


def test_a_project_partial_overrides_one_section_of_the_built_in(tmp_path: Path) -> None:
    partial = '<section id="bottom-line"><p>PROJECT BOTTOM LINE for {{ analysis.brief_id }}</p></section>\n'
    root, proc = render_with(tmp_path, {"partials/bottom_line.html.j2": partial})
    assert proc.returncode == 0, proc.stderr
    html = (root / "out.html").read_text(encoding="utf-8")
    assert "PROJECT BOTTOM LINE for csto-astana-2018" in html
    assert "Astana exposed a Collective Security Treaty Organization" not in html
    assert "CSTO summit in Astana: A mixed picture of cohesion" in html  # the rest is still the built-in


def broken(line: int, statement: str) -> str:
    lines = MINIMAL.split("\n")
    lines.insert(line - 1, statement)
    return "\n".join(lines)


@pytest.mark.parametrize("output", ["out.html", "out.pdf"])
def test_template_syntax_error_names_file_and_line(tmp_path: Path, output: str) -> None:
    root, proc = render_with(tmp_path, {"brief.html.j2": broken(4, "{% for x in %}")}, output)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines and lines[0].startswith("templates/brief.html.j2:4: error: template error: "), proc.stderr
    assert not (root / output).exists()


def test_template_undefined_variable_names_file_and_line(tmp_path: Path) -> None:
    root, proc = render_with(tmp_path, {"brief.html.j2": broken(3, "<p>{{ no_such_variable }}</p>")})
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "templates/brief.html.j2:3: error: template error: 'no_such_variable' is undefined"
    ]
    assert not (root / "out.html").exists()


@pytest.mark.parametrize("name", ["typo", "prose", "prose_inline", "long_date"])
def test_a_misspelt_field_through_a_filter_is_named_as_without_one(tmp_path: Path, name: str) -> None:
    _, proc = render_with(tmp_path, {"brief.html.j2": broken(3, f"<p>{{{{ assessment.brief.titel | {name} }}}}</p>")})
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "templates/brief.html.j2:3: error: template error: 'briefgen.models.Brief object' has no attribute 'titel'; "
        "did you mean 'title'?"
    ]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("{{ assessment.brief.titel }}", "'briefgen.models.Brief object' has no attribute 'titel'; did you mean"),
        ("{{ assessment.brief.title | tpyo }}", "no filter named 'tpyo'; did you mean 'typo'?"),
        ("{{ labels.botom_line }}", "no label 'botom_line' for language 'en' in "),
    ],
)
def test_a_misspelt_name_gets_the_name_it_probably_meant(tmp_path: Path, statement: str, message: str) -> None:
    _, proc = render_with(tmp_path, {"brief.html.j2": broken(3, f"<p>{statement}</p>")})
    assert proc.returncode == 1
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"templates/brief.html.j2:3: error: template error: {message}"), line
    assert line.endswith("?"), line


@pytest.mark.parametrize("closing", ["", "{% endblock %}\n"])
def test_an_unclosed_block_is_reported_with_the_line_it_opened_on(tmp_path: Path, closing: str) -> None:
    template = (
        '{% extends "layout.html.j2" %}\n{% block masthead %}\n{% for x in [1] %}{{ x }}{% endfor %}\n'
        "{% if true %}\n<h1>x</h1>\n" + closing
    )
    _, proc = render_with(tmp_path, {"brief.html.j2": template})
    assert proc.returncode == 1
    [line] = proc.stderr.splitlines()
    assert line.startswith("templates/brief.html.j2:"), line
    assert line.endswith("The innermost block that needs to be closed is 'if'. (the 'if' on line 4 is not closed)")


def test_long_date_on_text_says_what_it_takes(tmp_path: Path) -> None:
    _, proc = render_with(tmp_path, {"brief.html.j2": broken(3, "<p>{{ assessment.brief.title | long_date }}</p>")})
    assert proc.returncode == 1
    [line] = proc.stderr.splitlines()
    assert line.startswith("templates/brief.html.j2:3: error: template error: long_date takes a date, not str "), line


@pytest.mark.parametrize("name", ["typo", "prose", "prose_inline", "long_date"])
def test_a_filter_given_arguments_it_does_not_take_says_so_by_its_name(tmp_path: Path, name: str) -> None:
    _, proc = render_with(
        tmp_path, {"brief.html.j2": broken(3, f'<p>{{{{ assessment.brief.published | {name}("x") }}}}</p>')}
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"templates/brief.html.j2:3: error: template error: the filter '{name}' takes no arguments; it was given 1"
    ]


def test_template_error_in_an_included_partial_names_the_partial(tmp_path: Path) -> None:
    templates = {
        "brief.html.j2": broken(3, '{% include "partials/extra.html.j2" %}'),
        "partials/extra.html.j2": "<p>fine</p>\n<p>{{ assessment.brief.no_such_field }}</p>\n",
    }
    _, proc = render_with(tmp_path, templates)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines and lines[0].startswith("templates/partials/extra.html.j2:2: error: template error: "), proc.stderr
    assert "no_such_field" in lines[0]


def test_missing_included_template_names_the_including_line(tmp_path: Path) -> None:
    _, proc = render_with(tmp_path, {"brief.html.j2": broken(2, '{% include "partials/nope.html.j2" %}')})
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines and lines[0].startswith("templates/brief.html.j2:2: error: "), proc.stderr
    assert "partials/nope.html.j2" in lines[0]


@pytest.mark.parametrize(
    "statement",
    [
        "{{ assessment.__class__.__mro__ }}",
        "{{ assessment.brief.keywords.append('x') }}",
        "{{ ''.__class__.__subclasses__() }}",
        "{{ assessment.brief.keywords.index(assessment.brief.keywords[0]) }}{{ assessment.brief.keywords.pop() }}",
        "{{ assessment.brief.title.upper() }}{{ assessment.brief.title.__class__ }}",
    ],
    ids=["dunder", "mutation", "subclasses", "mutation after a safe method", "dunder after a safe method"],
)
def test_templates_are_sandboxed(tmp_path: Path, statement: str) -> None:
    root, proc = render_with(tmp_path, {"brief.html.j2": broken(3, statement)})
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines and lines[0].startswith("templates/brief.html.j2:3: error: template error: "), proc.stderr
    assert "unsafe" in lines[0]
    assert not (root / "out.html").exists()


def test_source_grades_are_put_in_words(sample_html: str) -> None:
    text = " ".join(html_text(sample_html).text.split())
    assert "B2 — usually reliable; probably true" in text
    assert "A1 — completely reliable; confirmed" in text


@pytest.mark.parametrize("output", ["out.html", "out.pdf"])
def test_a_style_for_an_unknown_medium_names_file_and_line(tmp_path: Path, output: str) -> None:
    root, proc = render_with(
        tmp_path, {"brief.html.j2": broken(4, '{% call style(media="tv") %}p {}{% endcall %}')}, output
    )
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines and lines[0].startswith("templates/brief.html.j2:4: error: template error: "), proc.stderr
    assert "style media 'tv' is not one of all, print, screen" in lines[0]
    assert not (root / output).exists()


def test_styles_go_inline_on_screen_with_their_media(sample_html: str) -> None:
    assert '<style media="print">' in sample_html  # print.css and the page furniture, for a browser's printing
    assert sample_html.count("<style") >= 4
    assert "@font-face {" not in sample_html  # the bundled fonts are for print only


def test_a_projects_own_fonts_get_the_figures_of_their_role_in_print(tmp_path: Path) -> None:
    """Print takes its figures from @font-face descriptors: a project's body face gets old-style ones,
    its headings face lining tabular ones, as the bundled faces do."""
    import shutil

    from briefgen.pipeline import Project, print_html
    from briefgen.theming import builtin_templates_dir

    root = make_project(tmp_path / "p")
    (root / "fonts").mkdir()
    shutil.copy(builtin_templates_dir() / "common" / "fonts" / "NotoSerif-Regular.ttf", root / "fonts" / "body.ttf")
    shutil.copy(builtin_templates_dir() / "common" / "fonts" / "NotoSans-Regular.ttf", root / "fonts" / "heads.ttf")
    (root / "briefgen.yaml").write_text(
        "fonts:\n  body: {family: House Serif, regular: fonts/body.ttf}\n"
        "  headings: {family: House Sans, regular: fonts/heads.ttf}\n",
        encoding="utf-8",
    )
    html = print_html(root / "sources" / f"{SAMPLE_ID}.yaml", Project.open(root))
    faces = re.findall(r"@font-face \{[^}]*\}", html)
    body = [face for face in faces if '"House Serif"' in face]
    heads = [face for face in faces if '"House Sans"' in face]
    assert len(body) == 3 and len(heads) == 3  # regular, italic, bold of each
    assert all('font-feature-settings: "onum", "pnum";' in face for face in body), body
    assert all('font-feature-settings: "lnum", "tnum";' in face for face in heads), heads


@pytest.mark.parametrize("output", ["out.html", "out.pdf"])
def test_a_stylesheet_that_is_not_utf8_is_named_with_its_line(tmp_path: Path, output: str) -> None:
    """Not the built-in template that asked for it."""
    root = make_project(tmp_path / "p")
    (root / "templates").mkdir()
    (root / "templates" / "brief.css").write_bytes(b"body { color: black; }\n/* caf\xe9 */\n")
    proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", output, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["templates/brief.css:2: error: not valid UTF-8; save it as UTF-8"]
    assert not (root / output).exists()


def test_what_the_pdf_printer_ignores_in_a_project_stylesheet_is_a_warning_at_its_line(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "templates").mkdir()
    css = "body { colr: red; }\nh1 { font-size: ; }\n"
    (root / "templates" / "brief.css").write_text(css, encoding="utf-8")
    proc = run_briefgen("build", "--format", "pdf", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    expected = [
        "templates/brief.css:1:8: warning: the PDF printer ignores `colr: red`, unknown property",
        "templates/brief.css:2:6: warning: the PDF printer ignores `font-size: `, no value",
    ]
    assert [line for line in proc.stderr.splitlines() if "PDF printer" in line] == expected
    [entry] = json.loads((root / "build" / "manifest.json").read_text(encoding="utf-8"))["briefs"]
    assert [warning for warning in entry["warnings"] if "PDF printer" in warning] == expected


def test_a_style_block_is_named_by_its_template(tmp_path: Path) -> None:
    block = "{% call style() %}\np { colr: red; }\n{% endcall %}"
    _, proc = render_with(tmp_path, {"brief.html.j2": broken(3, block)}, "out.pdf")
    assert proc.returncode == 0, proc.stderr
    assert "templates/brief.html.j2 (a style block): warning: the PDF printer ignores `colr: red`" in proc.stderr


def test_the_built_in_styles_give_the_pdf_printer_nothing_to_ignore(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    for theme in ("brief", "memo"):
        proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", f"{theme}.pdf", "--theme", theme, cwd=root)
        assert proc.returncode == 0, proc.stderr
        assert "warning" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("command", ["render", "build"])
def test_a_template_that_is_not_utf8_is_named_with_its_line(tmp_path: Path, command: str) -> None:
    """A brief the template renders fails; the other briefs of a build are unaffected by it."""
    root = make_project(tmp_path / "p")
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_bytes(b"<p>\nhello \xff\xfe world</p>\n")
    args = (
        ["build", "--format", "html", "-q"]
        if command == "build"
        else ["render", f"sources/{SAMPLE_ID}.yaml", "-o", "out.html"]
    )
    proc = run_briefgen(*args, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "templates/brief.html.j2:2: error: not valid UTF-8; save it as UTF-8" in proc.stderr.splitlines()
    if command == "build":
        assert "0 built, 0 skipped, 1 failed" in proc.stdout


def test_a_partial_that_is_not_utf8_is_named_not_the_template_including_it(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "templates" / "partials").mkdir(parents=True)
    (root / "templates" / "partials" / "masthead.html.j2").write_bytes(b"a\nb \xe9 c\n")
    proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", "out.html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "templates/partials/masthead.html.j2:2: error: not valid UTF-8; save it as UTF-8"
    ]


def test_a_stylesheet_that_is_not_a_stylesheet_says_so(tmp_path: Path) -> None:
    _, proc = render_with(tmp_path, {"brief.html.j2": broken(3, '{{ stylesheet("fonts/NotoSans-Bold.ttf") }}')})
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "templates/brief.html.j2:3: error: template error: 'fonts/NotoSans-Bold.ttf' is not a stylesheet; "
        "stylesheet() takes a .css file"
    ]


@pytest.mark.parametrize("output", ["out.html", "out.pdf"])
def test_an_import_in_a_stylesheet_is_refused_at_its_line(tmp_path: Path, output: str) -> None:
    house = '/* not this @import "a.css"; */\n@charset "utf-8";\n@import "extra.css";\nh1 { color: red; }\n'
    root, proc = render_with(
        tmp_path,
        {"brief.html.j2": broken(3, '{{ stylesheet("house.css") }}'), "house.css": house, "extra.css": "p {}\n"},
        output,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "templates/house.css:3:1: error: @import is not supported: include each stylesheet from a template with "
        '{{ stylesheet("NAME.css") }}'
    ]
    assert not (root / output).exists()


def test_a_template_without_html_lang_says_what_to_do_for_the_pdf(tmp_path: Path) -> None:
    root, proc = render_with(tmp_path, {"brief.html.j2": "<p>just text</p>\n"}, "out.pdf")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f'sources/{SAMPLE_ID}.yaml: error: the HTML has no <html lang="...">, which a tagged PDF needs: make '
        'templates/brief.html.j2 extend "layout.html.j2", or write <html lang="{{ lang }}"> in it'
    ]
    assert not (root / "out.pdf").exists()


def extra_failures(count: int) -> str:
    """Outcomes to add to the sample's: failures of their own, each with what an outcome needs."""
    return "".join(
        f"  - id: extra-failure-{number}\n    title: Extra failure {number}\n    verdict: failure\n"
        f"    significance: It failed.\n    actors: [Russia (Vladimir Putin)]\n    evidence: None came.\n"
        f"    sources: [jorbenadze-2018]\n"
        for number in range(count)
    )


def score_bar_labels(html: str) -> list[str]:
    chart = re.search(r'<svg class="score-chart".*?</svg>', html, re.DOTALL)
    assert chart is not None
    return [html_text(text).text for text in re.findall(r"<text\b.*?</text>", chart[0], re.DOTALL)]


@pytest.mark.parametrize(
    ("added", "labels"),
    [(0, ["2 successes", "2 failures"]), (5, ["2", "7"])],  # 2 of 9 is too narrow for "2 successes"
)
def test_the_score_bar_names_its_counts_only_when_every_segment_has_room(
    tmp_path: Path, added: int, labels: list[str]
) -> None:
    """Each segment of the outcomes bar shows its count, and its words only when every segment has room for
    them; the summary line above keys the bar, each count in its verdict's colour."""
    text = SAMPLE_TEXT.replace("\noutcomes:\n", "\noutcomes:\n" + extra_failures(added), 1)
    root = make_project(tmp_path / "p", {f"{SAMPLE_ID}.yaml": text})
    proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", "out.html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    html = (root / "out.html").read_text(encoding="utf-8")
    assert score_bar_labels(html) == labels
    keys = re.findall(r'<span class="score-key score-key-(\w+)">(.*?)</span>', html)
    assert keys == [("success", "2 successes"), ("failure", f"{2 + added} failures")]
