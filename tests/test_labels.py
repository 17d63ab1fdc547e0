"""Labels per language, merged key by key across the search path, and dates per language."""

import datetime as dt
from pathlib import Path

import pytest
import yaml
from helpers import SAMPLE_ID, SAMPLE_TEXT, assert_no_traceback, make_project, run_briefgen

from briefgen.errors import BriefgenError
from briefgen.labels import format_date, load_labels
from briefgen.theming import builtin_templates_dir, template_search_path

BUILTIN_ENGLISH = builtin_templates_dir() / "common" / "labels" / "en.yaml"


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


def labels_project(tmp_path: Path, name: str, text: str) -> Path:
    root = make_project(tmp_path / "p")
    (root / "templates" / "labels").mkdir(parents=True)
    (root / "templates" / "labels" / name).write_text(text, encoding="utf-8")
    return root


def test_an_unknown_placeholder_in_a_label_is_located_with_those_it_takes(tmp_path: Path) -> None:
    text = 'bottom_line: Summary\npage_number: "p. {pg}/{pages}"\noutcome_count:\n  one: "{m} outcome"\n'
    root = labels_project(tmp_path, "en.yaml", text)
    proc = run_briefgen("build", "--format", "html", "-q", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[:2] == [
        "templates/labels/en.yaml:2:14: error: unknown placeholder {pg} in page_number; it takes {page} and {pages} "
        "(did you mean {page}?)",
        "templates/labels/en.yaml:4:8: error: unknown placeholder {m} in outcome_count; it takes {n}",
    ]


def test_a_new_language_lists_every_missing_label_at_once_and_validate_checks_it(tmp_path: Path) -> None:
    root = labels_project(tmp_path, "de.yaml", "bottom_line: Fazit\n")
    source = root / "sources" / f"{SAMPLE_ID}.yaml"
    source.write_text(SAMPLE_TEXT.replace("\n  language: en\n", "\n  language: de\n", 1), encoding="utf-8")
    for args in (["validate"], ["build", "--format", "html", "-q"]):
        proc = run_briefgen(*args, cwd=root)
        assert_no_traceback(proc)
        assert proc.returncode == 1, proc.stderr
        [line] = [line for line in proc.stderr.splitlines() if "error" in line]
        missing = len(yaml.safe_load(BUILTIN_ENGLISH.read_text(encoding="utf-8"))) - 1  # all but bottom_line
        assert line.startswith(f"templates/labels/de.yaml: error: missing {missing} labels: date_format, quotes, "), (
            line
        )
        assert line.endswith("labels/en.yaml as a start and translate it"), line
    assert "0 of 1 sources valid" in run_briefgen("validate", cwd=root).stderr


def test_a_label_of_the_wrong_shape_is_one_error_at_its_own_line(tmp_path: Path) -> None:
    text = "page_number: [1, 2]\nverdict:\n  success: Success\n  failure: no\n"
    root = labels_project(tmp_path, "en.yaml", text)
    proc = run_briefgen("validate", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert [line for line in proc.stderr.splitlines() if "error" in line] == [
        "templates/labels/en.yaml:1:14: error: expected words, or keys with words (one per form, as in likelihood), "
        "found a list",
        "templates/labels/en.yaml:4:12: error: input should be a valid string; YAML read 'no' as a boolean: "
        'put it in quotes, "no"',
    ]
