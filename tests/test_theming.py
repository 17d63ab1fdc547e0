"""Themes and the template search path: project, theme, parent themes, built-ins, first match wins."""

from pathlib import Path

import pytest
from helpers import SAMPLE_ID, assert_no_traceback, make_project, pdf_pages_text, run_briefgen

from briefgen.errors import BriefgenError
from briefgen.theming import available_themes, builtin_templates_dir, template_search_path


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


def test_a_brief_picks_its_theme_in_its_source(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    source = root / "sources" / f"{SAMPLE_ID}.yaml"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("  language: en\n", "  language: en\n  theme: memo\n"), encoding="utf-8")
    proc = run_briefgen("build", "--format", "pdf", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert len(pdf_pages_text(root / "build" / f"{SAMPLE_ID}.pdf")) == 1


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


def test_an_unknown_theme_on_the_command_line(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    proc = run_briefgen("build", "--theme", "nope", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "unknown theme 'nope'" in proc.stderr


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
