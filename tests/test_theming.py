"""Themes and the template search path: project, theme, parent themes, built-ins, first match wins."""

import json
from pathlib import Path

import pytest
from helpers import SAMPLE_ID, SAMPLE_TEXT, assert_no_traceback, make_project, pdf_pages_text, run_briefgen

from briefgen.errors import BriefgenError
from briefgen.theming import available_themes, builtin_templates_dir, page_budget, template_search_path, theme_chain


def html_of(root: Path, *args: str) -> str:
    proc = run_briefgen("build", "--format", "html", *args, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    return (root / "build" / f"{SAMPLE_ID}.html").read_text(encoding="utf-8")


def write(root: Path, name: str, text: str) -> None:
    path = root / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_builtin_themes_are_listed(tmp_path: Path) -> None:
    themes = available_themes(make_project(tmp_path / "p"))
    assert {"brief", "memo"} <= set(themes)
    assert themes["memo"].extends == "brief"


def test_search_path_order(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "templates").mkdir()
    path = template_search_path(root, "memo")
    builtin = builtin_templates_dir().resolve()
    assert path == [
        (root / "templates").resolve(),
        builtin / "themes" / "memo",
        builtin / "themes" / "brief",
        builtin / "common",
    ]


def test_project_theme_extending_a_builtin_one_wins_in_order(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, "themes/house/theme.yaml", "description: Our house style\nextends: memo\n")
    write(root, "themes/house/partials/bottom_line.html.j2", '<section id="house-theme-marker"></section>\n')
    html = html_of(root, "--theme", "house")
    assert "house-theme-marker" in html
    # A file in the project's own templates/ beats the theme's.
    write(root, "partials/bottom_line.html.j2", '<section id="project-marker"></section>\n')
    html = html_of(root, "--theme", "house")
    assert "project-marker" in html and "house-theme-marker" not in html


def test_an_overridden_block_keeps_the_rest(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(
        root,
        "brief.html.j2",
        '{% extends "layout.html.j2" %}\n{% block masthead %}<header id="our-masthead">Ours</header>{% endblock %}\n',
    )
    html = html_of(root)
    assert '<header id="our-masthead">Ours</header>' in html
    assert "Unanimous support for the INF Treaty" in html  # the inherited outcome section


def test_a_misspelt_block_is_a_warning_at_its_line(tmp_path: Path) -> None:
    """A block of the template's own inside an overridden one is shown, so it is no mistake."""
    root = make_project(tmp_path / "p")
    write(
        root,
        "brief.html.j2",
        '{% extends "layout.html.j2" %}\n{% block mastead %}<p>Ours</p>{% endblock %}\n'
        "{% block colophon %}{% block own %}<p>Own</p>{% endblock %}{% endblock %}\n",
    )
    proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", "out.html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    [warning] = proc.stderr.splitlines()
    assert warning.startswith(
        "templates/brief.html.j2:2: warning: block 'mastead' is not in layout.html.j2 or the templates it extends, "
        "so it is never shown; did you mean 'masthead'? blocks: head, meta, fonts, "
    ), warning
    assert warning.endswith(", colophon")
    assert "<p>Own</p>" in (root / "out.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("output", ["out.html", "out.pdf"])
def test_a_template_extending_itself_says_what_to_extend(tmp_path: Path, output: str) -> None:
    root = make_project(tmp_path / "p")
    write(root, "brief.html.j2", '{# ours #}\n{% extends "brief.html.j2" %}\n')
    proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", output, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "templates/brief.html.j2:2: error: brief.html.j2 extends itself: this file hides the built-in brief.html.j2, "
        'so the name finds this file again; extend "layout.html.j2" instead, as the built-in one does'
    ]


def test_templates_extending_each_other_in_a_loop(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, "brief.html.j2", '{% extends "layout.html.j2" %}\n')
    write(root, "layout.html.j2", '{% extends "brief.html.j2" %}\n')
    proc = run_briefgen("build", "--format", "html", "-q", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    expected = (
        "templates/layout.html.j2:1: error: templates extend each other in a loop: "
        "brief.html.j2 -> layout.html.j2 -> brief.html.j2"
    )
    assert expected in proc.stderr.splitlines()


def test_a_brief_picks_its_theme_in_its_source(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    source = root / "sources" / f"{SAMPLE_ID}.yaml"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("  language: en\n", "  language: en\n  theme: memo\n"), encoding="utf-8")
    proc = run_briefgen("build", "--format", "pdf", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert len(pdf_pages_text(root / "build" / f"{SAMPLE_ID}.pdf")) == 1
    assert "warning" not in proc.stderr  # the memo is meant for one page, and this one fits


def test_a_brief_longer_than_its_theme_allows_gets_a_warning(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, "themes/house/theme.yaml", "description: Two pages at most\nextends: brief\npages: 2\n")
    proc = run_briefgen("build", "--format", "pdf", "--theme", "house", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr  # a warning: the brief is still built
    pages = len(pdf_pages_text(root / "build" / f"{SAMPLE_ID}.pdf"))
    assert pages > 2
    warning = (
        f"sources/{SAMPLE_ID}.yaml: warning: the PDF runs to {pages} pages, over the 2 pages the theme 'house' "
        "is meant for; shorten the brief or choose a longer theme"
    )
    assert warning in proc.stderr
    manifest = json.loads((root / "build" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["briefs"][0]["warnings"] == [warning]


def test_a_theme_inherits_its_page_budget_unless_it_sets_one(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, "themes/short/theme.yaml", "description: A memo of ours\nextends: memo\n")
    write(root, "themes/longer/theme.yaml", "description: A longer memo\nextends: memo\npages: 3\n")
    assert page_budget(theme_chain(root, "memo")) == 1
    assert page_budget(theme_chain(root, "short")) == 1
    assert page_budget(theme_chain(root, "longer")) == 3
    assert page_budget(theme_chain(root, "brief")) is None
    listing = run_briefgen("templates", "list", cwd=root).stdout
    assert "  memo (extends brief; at most 1 page): " in listing
    assert "  longer (extends memo; at most 3 pages): " in listing
    assert "  short (extends memo; at most 1 page): " in listing  # inherited: the budget it is held to
    write(root, "themes/stray/theme.yaml", "description: A theme of a lost parent\nextends: nowhere\n")
    assert "  stray (extends nowhere; broken: see below): " in run_briefgen("templates", "list", cwd=root).stdout


def test_a_broken_theme_is_reported_once_for_every_brief_it_stops(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {f"{SAMPLE_ID}.yaml": SAMPLE_TEXT, "second.yaml": SAMPLE_TEXT})
    write(root, "themes/house/theme.yaml", "description: House\nextends: brief\npages: 0\n")
    proc = run_briefgen("build", "--theme", "house", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    error = "templates/themes/house/theme.yaml:3:8: error: input should be greater than 0"
    assert proc.stderr.count(error) == 1, proc.stderr
    failed = [line for line in proc.stderr.splitlines() if line.startswith("failed  ")]
    # whichever brief failed first shows the error; the other points back to it by name
    first, second = (line.removeprefix("failed  ") for line in failed)
    assert {first, second.split(" (")[0]} == {f"sources/{SAMPLE_ID}.yaml", "sources/second.yaml"}
    assert second.endswith(f" (the same error as {first}, above)"), failed
    assert not (root / "build" / f"{SAMPLE_ID}.pdf").exists()


def test_an_unknown_theme_in_a_source_is_located(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    source = root / "sources" / f"{SAMPLE_ID}.yaml"
    lines = source.read_text(encoding="utf-8").split("\n")
    number = lines.index("  language: en") + 2
    lines.insert(number - 1, "  theme: mem")
    source.write_text("\n".join(lines), encoding="utf-8")
    proc = run_briefgen("validate", cwd=root)
    assert proc.returncode == 1
    assert f"sources/{SAMPLE_ID}.yaml:{number}:10: error: unknown theme 'mem'; did you mean 'memo'?" in proc.stderr


@pytest.mark.parametrize(
    ("theme", "hint"), [("nope", "themes: brief, memo"), ("mem", "did you mean 'memo'?")], ids=["far", "close"]
)
def test_an_unknown_theme_on_the_command_line_is_bad_usage(tmp_path: Path, theme: str, hint: str) -> None:
    root = make_project(tmp_path / "p")
    proc = run_briefgen("build", "--theme", theme, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"briefgen: error: --theme: no theme named '{theme}'; {hint}"]
    assert not (root / "build").exists()


def test_a_theme_folder_without_a_theme_file_is_named_as_the_cause(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "templates" / "themes" / "house").mkdir(parents=True)
    proc = run_briefgen("build", "--theme", "house", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "briefgen: error: --theme: no theme named 'house': templates/themes/house/ has no theme.yaml; "
        "add one with at least a description"
    ]


def test_an_unknown_theme_in_the_config_is_located(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "briefgen.yaml").write_text("paper: a4\ntheme: nosuch\n", encoding="utf-8")
    proc = run_briefgen("validate", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["briefgen.yaml:2:8: error: unknown theme 'nosuch'; known themes: brief, memo"]


def test_a_theme_extending_an_unknown_theme_is_reported_at_its_file(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, "themes/a/theme.yaml", "description: A\nextends: bief\n")
    proc = run_briefgen("build", "--format", "html", "--theme", "a", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    message = "templates/themes/a/theme.yaml:2:1: error: theme 'a' extends unknown theme 'bief'; did you mean 'brief'?"
    assert message in proc.stderr.splitlines()


def test_themes_extending_each_other_in_a_loop(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, "themes/a/theme.yaml", "description: A\nextends: b\n")
    write(root, "themes/b/theme.yaml", "description: B\nextends: a\n")
    with pytest.raises(BriefgenError, match="loop: a -> b -> a"):
        template_search_path(root, "a")


def test_a_broken_theme_file_is_located(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, "themes/a/theme.yaml", "description: A\nextend: brief\n")
    proc = run_briefgen("build", "--theme", "a", cwd=root)
    assert proc.returncode == 1
    assert "templates/themes/a/theme.yaml:2:1: error: unknown key 'extend'; did you mean 'extends'?" in proc.stderr


def test_templates_list_shows_broken_themes_with_their_errors(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, "themes/loop-a/theme.yaml", "description: A\nextends: loop-b\n")
    write(root, "themes/loop-b/theme.yaml", "description: B\nextends: loop-a\n")
    write(root, "themes/orphan/theme.yaml", "description: O\npages: 2\nextends: nothere\n")
    proc = run_briefgen("templates", "list", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "  loop-a (extends loop-b; broken: see below): A" in proc.stdout.splitlines()
    assert "  orphan (extends nothere; broken: see below; at most 2 pages): O" in proc.stdout.splitlines()
    assert "  memo (extends brief; at most 1 page): " in proc.stdout
    assert proc.stderr.splitlines() == [
        "templates/themes/loop-b/theme.yaml:2:1: error: themes extend each other in a loop: loop-a -> loop-b -> loop-a",
        "templates/themes/loop-a/theme.yaml:2:1: error: themes extend each other in a loop: loop-b -> loop-a -> loop-b",
        "templates/themes/orphan/theme.yaml:3:1: error: theme 'orphan' extends unknown theme 'nothere'; "
        "themes: brief, loop-a, loop-b, memo, orphan",
    ]


def test_an_empty_theme_file_is_not_called_a_source(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, "themes/t1/theme.yaml", "")
    proc = run_briefgen("templates", "list", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "templates/themes/t1/theme.yaml:1:1: error: theme file is empty; give at least a description"
    ]
