"""Labels per language, merged key by key across the search path, and dates per language."""

import datetime as dt
from pathlib import Path

import pytest
from helpers import SAMPLE_ID, make_project, run_briefgen

from briefgen.errors import BriefgenError
from briefgen.labels import format_date, load_labels
from briefgen.theming import template_search_path


def test_every_builtin_language_has_the_same_labels() -> None:
    search_path = template_search_path(Path("/nonexistent"), "brief")
    english, russian = load_labels(search_path, "en"), load_labels(search_path, "ru")
    assert set(english) == set(russian)
    for key, value in english.items():
        if isinstance(value, dict):
            assert set(value) == set(russian[key]), key


def test_dates_follow_the_language() -> None:
    search_path = template_search_path(Path("/nonexistent"), "brief")
    day = dt.date(2018, 11, 8)
    assert format_date(day, load_labels(search_path, "en")) == "8 November 2018"
    assert format_date(day, load_labels(search_path, "ru")).startswith("8 ноября 2018")


def test_a_regional_tag_falls_back_to_its_language() -> None:
    search_path = template_search_path(Path("/nonexistent"), "brief")
    assert load_labels(search_path, "en-GB")["date_format"] == load_labels(search_path, "en")["date_format"]


def test_a_language_without_labels_is_an_error() -> None:
    search_path = template_search_path(Path("/nonexistent"), "brief")
    with pytest.raises(BriefgenError, match="no labels for language 'de'"):
        load_labels(search_path, "de")


def test_a_project_changes_one_label_and_keeps_the_rest(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "templates" / "labels").mkdir(parents=True)
    (root / "templates" / "labels" / "en.yaml").write_text("date_format: y-MM-dd\n", encoding="utf-8")
    merged = load_labels(template_search_path(root, "brief"), "en")
    assert merged["date_format"] == "y-MM-dd"
    assert "quotes" in merged  # inherited from the built-ins
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "2018-11-16" in (root / "build" / f"{SAMPLE_ID}.html").read_text(encoding="utf-8")


def test_a_missing_label_names_itself_and_the_template_line(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_text("<p>\n{{ labels.no_such_label }}</p>\n", encoding="utf-8")
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 1
    assert "templates/brief.html.j2:2: error: template error: no label 'no_such_label' for language 'en'" in proc.stderr
