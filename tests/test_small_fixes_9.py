"""Small fixes: a build's report in the build's order whatever the timing; distribute telling a recipient
renamed from one taken off the list; `briefgen new` refusing to write through a link out of the project."""

import json
from pathlib import Path

from helpers import MEMO_TEXT, SAMPLE_ID, SAMPLE_TEXT, assert_no_traceback, make_project, replace_once, run_briefgen

# ---------------------------------------------------------------------------
# build: the same report for the same inputs

BROKEN_THEME = '{% extends "layout.html.j2" %}{% block masthead %}<h1>{{ assessment.brief.titel }}</h1>{% endblock %}\n'
IN_BROKEN_THEME = replace_once(SAMPLE_TEXT, "  language: en\n", "  language: en\n  theme: broken\n")
# about 0.9 MB of keywords: reading and checking them takes this brief over a second, so it fails last
LONG_KEYWORDS = "".join(f"    - k{number}\n" for number in range(70_000))
UNCITED = "  - id: uncited-note\n    title: A note nothing cites\n    reliability: B2\n"
TEMPLATE_ERROR = (
    "templates/themes/broken/brief.html.j2:1: error: template error: 'briefgen.models.Brief object' has no"
    " attribute 'titel'; did you mean 'title'?"
)


def failing_project(root: Path) -> Path:
    """Three briefs failing with one template error (the first in order the slowest), two with errors of
    their own, one built with a warning and one built cleanly."""
    make_project(
        root,
        {
            "a-long.yaml": replace_once(IN_BROKEN_THEME, "  keywords:\n", "  keywords:\n" + LONG_KEYWORDS),
            "b-theme.yaml": IN_BROKEN_THEME,
            "c-theme.yaml": IN_BROKEN_THEME,
            "d-likelihood.yaml": SAMPLE_TEXT.replace("likelihood: likely", "likelihood: likley", 1),
            "e-key.yaml": replace_once(SAMPLE_TEXT, "  series: Commentary", "  serie: Commentary"),
            "f-warned.yaml": replace_once(SAMPLE_TEXT, "\nsources:\n", "\nsources:\n" + UNCITED),
            "g-clean.yaml": SAMPLE_TEXT,
        },
    )
    theme = root / "templates" / "themes" / "broken"
    theme.mkdir(parents=True)
    (theme / "theme.yaml").write_text("description: broken\nextends: brief\n", encoding="utf-8")
    (theme / "brief.html.j2").write_text(BROKEN_THEME, encoding="utf-8")
    return root


def build_report(root: Path, jobs: int) -> tuple[list[str], list[str]]:
    """A full build's stdout and stderr lines, without the summary table (the only place that shows a time)."""
    proc = run_briefgen("build", "--force", "--format", "html", "--jobs", jobs, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    table = ("build summary", "┏", "┃", "┡", "│", "└")
    return [line for line in proc.stdout.splitlines() if not line.startswith(table)], proc.stderr.splitlines()


def test_a_build_reports_its_briefs_in_order_whichever_finishes_first(tmp_path: Path) -> None:
    root = failing_project(tmp_path / "project")
    out, err = build_report(root, 2)
    assert err == [
        TEMPLATE_ERROR,
        "failed  sources/a-long.yaml",
        "failed  sources/b-theme.yaml (the same error as sources/a-long.yaml, above)",
        "failed  sources/c-theme.yaml (the same error as sources/a-long.yaml, above)",
        "sources/d-likelihood.yaml:91:17: error: 'likley' is not one of: almost no chance, very unlikely, unlikely,"
        " roughly even chance, likely, very likely, almost certain; did you mean 'likely'?",
        "failed  sources/d-likelihood.yaml",
        "sources/e-key.yaml:2:3: error: missing required key 'series' in 'brief'",
        "sources/e-key.yaml:9:3: error: unknown key 'serie'; did you mean 'series'?",
        "failed  sources/e-key.yaml",
        "sources/f-warned.yaml:386:9: warning: source 'uncited-note' is never cited",
    ]
    assert out == [
        "built   f-warned: f-warned.html",
        "built   g-clean: g-clean.html",
        "2 built, 0 skipped, 5 failed; manifest in build/manifest.json",
    ]
    for jobs in (2, 2, 1):
        assert build_report(root, jobs) == (out, err)


# ---------------------------------------------------------------------------
# distribute: a renamed recipient is not one taken off the list

HEADER = "name,organisation,email\n"
FIRST_LIST = (
    "Anna Field,Foreign Office,anna@example.org\nBob Stone,OSCE,bob@example.org\nCarl Marsh,UN,carl@example.org\n"
)
# Anna renamed; Carl gone; a second Bob Stone, so the first Bob's file name gains his organisation
SECOND_LIST = (
    "Anna Fieldman,Foreign Office,anna@example.org\nBob Stone,OSCE,bob@example.org\n"
    "Bob Stone,Council,bob.stone@example.org\n"
)


def test_distribute_counts_a_recipient_under_a_new_file_name_apart_from_one_gone(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {f"{SAMPLE_ID}.yaml": MEMO_TEXT})  # a one-page memo: copies to count
    (root / "r.csv").write_text(HEADER + FIRST_LIST, encoding="utf-8")
    assert run_briefgen("distribute", "--recipients", "r.csv", "--jobs", "1", cwd=root).returncode == 0
    (root / "r.csv").write_text(HEADER + SECOND_LIST, encoding="utf-8")
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--jobs", "1", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "distributing 1 brief to 3 recipients: 3 copies, 3 bundles",
        "removed 1 copy and 1 bundle of recipients no longer on the list",
        "replaced 2 copies and 2 bundles of recipients still on the list under a new file name",
        "3 copies for 3 recipients; manifest in dist/manifest.json",
    ]
    folder = root / "dist" / "csto-astana-2018"
    assert sorted(path.name for path in folder.iterdir()) == [
        "anna-fieldman.pdf",
        "bob-stone-council.pdf",
        "bob-stone-osce.pdf",
    ]
    earlier = json.loads((root / "dist" / "manifest.json").read_text(encoding="utf-8"))["earlier"]
    assert {(row["recipient"]["name"], row["status"]) for row in earlier} == {
        ("Anna Field", "superseded"),
        ("Carl Marsh", "withdrawn"),
    }


# ---------------------------------------------------------------------------
# new: never writes through a link out of the project

WRITE_ADVICE = "briefgen writes a new source only inside the project"


def new_source(root: Path, brief_id: str) -> tuple[int, list[str]]:
    proc = run_briefgen("new", brief_id, cwd=root)
    assert_no_traceback(proc)
    return proc.returncode, proc.stderr.splitlines()


def test_new_refuses_a_sources_folder_linking_out_of_the_project(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "project"
    root.mkdir()
    (root / "sources").symlink_to(elsewhere)
    code, errors = new_source(root, "gulf-summit-2026")
    advice = f"{WRITE_ADVICE}: put the folder itself in the project, in place of the link"
    assert errors == [f"sources: error: links to {elsewhere}, outside the project; {advice}"]
    assert code == 1
    assert list(elsewhere.iterdir()) == []


def test_new_refuses_a_source_path_linking_out_of_the_project(tmp_path: Path) -> None:
    """A link with nothing yet at its end would take the new source wherever it points."""
    target = tmp_path / "elsewhere" / "gulf-summit-2026.yaml"
    target.parent.mkdir()
    root = make_project(tmp_path / "project")
    (root / "sources" / "gulf-summit-2026.yaml").symlink_to(target)
    code, errors = new_source(root, "gulf-summit-2026")
    advice = f"{WRITE_ADVICE}: remove the link, or choose another id"
    assert errors == [f"sources/gulf-summit-2026.yaml: error: links to {target}, outside the project; {advice}"]
    assert code == 1
    assert not target.exists()


def test_new_writes_into_sources_in_the_project_and_through_links_inside_it(tmp_path: Path) -> None:
    root = make_project(tmp_path / "plain")
    assert new_source(root, "gulf-summit-2026") == (0, [])
    assert (root / "sources" / "gulf-summit-2026.yaml").is_file()
    linked = tmp_path / "linked"
    (linked / "drafts").mkdir(parents=True)
    (linked / "sources").symlink_to("drafts")
    assert new_source(linked, "gulf-summit-2026") == (0, [])
    assert (linked / "drafts" / "gulf-summit-2026.yaml").is_file()
    assert run_briefgen("validate", cwd=linked).returncode == 0


def test_init_refuses_a_sources_link_out_of_the_folder_before_writing_anything(tmp_path: Path) -> None:
    """A dangling link: init finds no project there, and would write its starter source wherever it points."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "sources").symlink_to(tmp_path / "elsewhere")
    proc = run_briefgen("init", "project", cwd=tmp_path)
    assert_no_traceback(proc)
    advice = f"{WRITE_ADVICE}: put the folder itself in the project, in place of the link"
    assert proc.stderr.splitlines() == [f"project/sources: error: links to elsewhere, outside the project; {advice}"]
    assert proc.returncode == 1
    assert [path.name for path in root.iterdir()] == ["sources"]
    assert not (tmp_path / "elsewhere").exists()
