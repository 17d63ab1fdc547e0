"""Small fixes: a build's report in the build's order whatever the timing."""

from pathlib import Path

from helpers import SAMPLE_TEXT, assert_no_traceback, make_project, replace_once, run_briefgen

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
