"""Fixes from the fifth trial: trace on a copy protected by a password and on files that are no PDF, a stamp
that keeps both the name and the organisation when it must be shortened, the catalogue's teaser ending at a
sentence, and the scorecard bar's narrow segments labelled in words."""

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest
from helpers import assert_no_traceback, child_env, make_project, pdf_pages_text, run_briefgen

LONG_NAME = (
    "Maximilian Alexander Bartholomew Christopher Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh the Third"
)
LONG_ORGANISATION = (
    "Ministry of Foreign Affairs, Trade and Development of the Co-operative Republic of Somewhere Very Far Away"
)
RECIPIENTS = {
    "short": ("John Smith", "Foreign Office"),
    "long-name": (LONG_NAME, "Foreign Office"),
    "long-organisation": ("Zoë Martin", LONG_ORGANISATION),
    "both-long": (LONG_NAME, LONG_ORGANISATION),
}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A distribution of the sample to one recipient of each kind of RECIPIENTS, their email the kind's name."""
    root = make_project(tmp_path_factory.mktemp("trial5") / "project")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "organisation", "email"])
    writer.writerows([name, organisation, f"{kind}@example.org"] for kind, (name, organisation) in RECIPIENTS.items())
    (root / "r.csv").write_text(out.getvalue(), encoding="utf-8")
    proc = run_briefgen("distribute", "--recipients", "r.csv", cwd=root)
    assert proc.returncode == 0, proc.stderr
    return root / "dist"


def copy_of(dist: Path, kind: str) -> Path:
    (path,) = [path for path in (dist / "csto-astana-2018").glob("*.pdf") if kind_of(dist, path) == kind]
    return path


def kind_of(dist: Path, path: Path) -> str:
    manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    (record,) = [copy for copy in manifest["copies"] if dist / copy["path"] == path]
    return record["recipient"]["email"].split("@")[0]


# ---------------------------------------------------------------------------
# trace


def test_trace_asks_for_the_password_of_a_protected_copy_and_opens_it_with_one(dist: Path, tmp_path: Path) -> None:
    with pikepdf.open(copy_of(dist, "short")) as document:
        document.save(tmp_path / "locked.pdf", encryption=pikepdf.Encryption(user="secret", owner="owner", R=6))
        document.save(tmp_path / "open.pdf", encryption=pikepdf.Encryption(user="", owner="owner", R=6))
    manifest = dist / "manifest.json"
    refused = run_briefgen("trace", "--manifest", manifest, "locked.pdf", cwd=tmp_path)
    assert_no_traceback(refused)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "locked.pdf: error: the PDF is protected by a password; give it with --password (or '--password -' to type"
        " it, or in BRIEFGEN_PDF_PASSWORD), or give the copy id printed on its pages with --id"
    ]
    wrong = run_briefgen("trace", "--manifest", manifest, "locked.pdf", "--password", "guess", cwd=tmp_path)
    assert_no_traceback(wrong)
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("locked.pdf: error: the password given does not open this PDF; ")
    traced = (
        "copy .* prepared for John Smith, Foreign Office <short@example.org>; the file was changed after it was sent"
    )
    # given on the command line, read from standard input, from the environment; a copy with no user password
    # opens whatever password is given
    for args, stdin, env in [
        (["--password", "secret", "locked.pdf", "open.pdf"], None, {}),
        (["--password", "-", "locked.pdf"], "secret\n", {}),
        (["locked.pdf"], None, {"BRIEFGEN_PDF_PASSWORD": "secret"}),
    ]:
        proc = run_briefgen_with("trace", "--manifest", manifest, *args, cwd=tmp_path, stdin=stdin, env=env)
        assert proc.returncode == 0, proc.stderr
        assert len(proc.stdout.splitlines()) == len(args) - 2 * ("--password" in args)
        for line in proc.stdout.splitlines():
            assert re.fullmatch(rf"(locked|open)\.pdf: {traced}", line), line


def run_briefgen_with(
    *args: object, cwd: Path, stdin: str | None, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """run_briefgen with a standard input and more environment variables."""
    return subprocess.run(
        [sys.executable, "-m", "briefgen", *(str(arg) for arg in args)],
        cwd=cwd,
        env=child_env(**env),
        input=stdin or "",
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_trace_tells_what_is_wrong_with_a_file_that_is_no_pdf(dist: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "cut.pdf").write_bytes(copy_of(dist, "short").read_bytes()[:2000])
    (tmp_path / "folder.pdf").mkdir()
    names = ["empty.pdf", "cut.pdf", "folder.pdf", "missing.pdf"]
    proc = run_briefgen("trace", "--manifest", dist / "manifest.json", *names, cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "empty.pdf: error: an empty file, not a PDF",
        "cut.pdf: error: not a PDF that can be read",
        "folder.pdf: error: a folder, not a PDF",
        "missing.pdf: error: no such file",
    ]


# ---------------------------------------------------------------------------
# the stamp


def stamp_of(dist: Path, kind: str) -> str:
    """The stamp on the first page of a kind of recipient's copy."""
    found = re.search(r"Prepared for .*? · Copy [0-9A-F]{12}", " ".join(pdf_pages_text(copy_of(dist, kind))[0].split()))
    assert found
    return found[0]


def test_a_short_stamp_is_whole(dist: Path) -> None:
    assert re.fullmatch(r"Prepared for John Smith, Foreign Office · Copy [0-9A-F]{12}", stamp_of(dist, "short"))


@pytest.mark.parametrize("kind", ["long-name", "long-organisation", "both-long"])
def test_a_long_stamp_keeps_a_part_of_the_name_and_of_the_organisation(dist: Path, kind: str) -> None:
    name, organisation = RECIPIENTS[kind]
    stamp = stamp_of(dist, kind)
    found = re.fullmatch(r"Prepared for ([^,]+), (.+) · Copy [0-9A-F]{12}", stamp)
    assert found, stamp
    for part, whole in zip(found.groups(), (name, organisation), strict=True):
        if len(whole) > 40:
            assert part.endswith("…") and whole.startswith(part[:-1]) and len(part) >= 30, stamp
        else:
            assert part == whole, stamp
