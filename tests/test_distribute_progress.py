"""What `briefgen distribute` shows as it works: a line saying what it will make, then on a terminal a bar
for each stage counting to its total; off a terminal and with --quiet, plain lines only."""

import re
from pathlib import Path

from helpers import MEMO_TEXT, assert_no_traceback, in_a_terminal, make_project, run_briefgen

RECIPIENTS = """name,organisation,email,edition
Anna Petrova,Institute of Peace,anna@example.org,public
John Smith,Foreign Office,john@example.org,restricted
Marie Dupont,OSCE,marie@example.org,public
"""
PLAN = "distributing 2 briefs to 3 recipients in 2 editions: 6 copies, 3 bundles"
SUMMARY = "6 copies for 3 recipients; manifest in dist/manifest.json"


def project(tmp_path: Path) -> Path:
    """Two briefs (memos: what is shown, not what is printed, is tested), and three recipients of whom one
    gets the restricted edition."""
    root = make_project(tmp_path / "p", {"alpha.yaml": MEMO_TEXT, "beta.yaml": MEMO_TEXT})
    (root / "r.csv").write_text(RECIPIENTS, encoding="utf-8")
    return root


def counts(shown: str, label: str) -> set[tuple[int, int]]:
    """Every done/total the bar labelled so showed."""
    return {(int(done), int(total)) for done, total in re.findall(rf"{label}\b.*?\b(\d+)/(\d+)\b", shown)}


def test_a_terminal_shows_the_plan_then_each_stage_counting_to_its_total(tmp_path: Path) -> None:
    shown = in_a_terminal("distribute", "--recipients", "r.csv", "--jobs", "1", cwd=project(tmp_path))
    assert PLAN in shown
    stages = {
        "rendering briefs": 4,  # two briefs, each in the two editions the recipients get
        "stamping copies": 6,  # two briefs for each of three recipients
        "bundling": 3,
    }
    for label, total in stages.items():
        seen = counts(shown, label)
        assert (total, total) in seen, (label, shown)
        assert {shown_total for _, shown_total in seen} == {total}, (label, shown)
    assert shown.index(PLAN) < shown.index("rendering briefs") < shown.index("stamping copies")
    assert shown.rstrip().endswith(SUMMARY), shown


def test_off_a_terminal_only_the_plan_and_the_summary_are_printed(tmp_path: Path) -> None:
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--jobs", "1", cwd=project(tmp_path))
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [PLAN, SUMMARY]
    assert proc.stderr == ""
    for output in (proc.stdout, proc.stderr):
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", output), repr(output)  # no escapes, no carriage returns


def test_quiet_shows_only_the_summary_on_a_terminal_or_off_one(tmp_path: Path) -> None:
    root = project(tmp_path)
    shown = in_a_terminal("distribute", "--recipients", "r.csv", "--jobs", "1", "--quiet", cwd=root)
    assert [line.strip() for line in shown.splitlines() if line.strip()] == [SUMMARY]
    (root / "r.csv").write_text(RECIPIENTS.replace("Marie Dupont,OSCE,marie@example.org,public\n", ""))
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--jobs", "1", "-q", cwd=root)
    assert proc.returncode == 0, proc.stderr
    # no plan and no line about Marie's copies and bundle, deleted as she left the list
    assert (proc.stdout, proc.stderr) == ("4 copies for 2 recipients; manifest in dist/manifest.json\n", "")
    assert not (root / "dist" / "bundles" / "marie-dupont.zip").exists()


def test_a_source_named_twice_is_counted_once(tmp_path: Path) -> None:
    proc = run_briefgen(
        "distribute", "sources/alpha.yaml", "sources/alpha.yaml", "--recipients", "r.csv", cwd=project(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "distributing 1 brief to 3 recipients in 2 editions: 3 copies, 3 bundles",
        "3 copies for 3 recipients; manifest in dist/manifest.json",
    ]
