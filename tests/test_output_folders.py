"""Output folders of build and distribute: which folders they refuse, who holds a folder while they write it,
and what a distribution that runs out of room leaves behind.

Everything goes through the command line. Writes are made to fail for real, by files limited in size with
RLIMIT_FSIZE, as a full disk limits them (a small tmpfs needs root to mount).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import (
    MEMO_TEXT,
    SAMPLE_ID,
    SAMPLE_TEXT,
    assert_no_traceback,
    child_env,
    folder_lock,
    make_project,
    pdf_text,
    run_briefgen,
)

from briefgen.publish import exclusive

WEB_MANIFEST = '{"name": "My web app", "icons": []}\n'
WEB_PAGE = "<h1>my site</h1>\n"
TINY_TEMPLATE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>'
    "<body><h1>{{ assessment.brief.title }}</h1></body></html>\n"
)
OPTIONS = {"build": ("--format", "html"), "distribute": ("--recipients", "r.csv")}  # beside --out
FOLDERS = {"build": ("build", "a build"), "distribute": ("dist", "a distribution")}  # their default --out
WHO = {"build": "the build", "distribute": "distribute"}  # as messages name them


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under folder, by its path there, with its bytes."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def recipients(count: int) -> str:
    rows = [f"Reader {n},Institute,r{n}@example.org" for n in range(count)]
    return "\n".join(["name,organisation,email", *rows]) + "\n"


def usage_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused --out prints."""
    assert_no_traceback(proc)
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.splitlines()
    return line


# --- build --out: foreign files and ancestors of the project ------------------------------------------------


def test_a_folder_with_a_web_apps_manifest_is_no_build_folder(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    site = tmp_path / "site"
    site.mkdir()
    (site / "manifest.json").write_text(WEB_MANIFEST, encoding="utf-8")
    (site / "index.html").write_text(WEB_PAGE, encoding="utf-8")
    before = tree(site)
    line = usage_error(run_briefgen("build", "--format", "html", "--out", site, cwd=root))
    assert line == (
        f"briefgen: error: --out: {site} holds a manifest.json that is not a build's, which a build replaces;"
        " give the build a folder of its own, such as build"
    )
    assert tree(site) == before


def test_an_index_page_no_build_wrote_is_left_alone(tmp_path: Path) -> None:
    """A build writes its manifest and its catalogue together: an index.html with no build's manifest beside
    it is someone else's page."""
    root = make_project(tmp_path / "project")
    site = root / "site"
    site.mkdir()
    (site / "index.html").write_text(WEB_PAGE, encoding="utf-8")
    line = usage_error(run_briefgen("build", "--format", "html", "--out", "site", cwd=root))
    assert line == (
        "briefgen: error: --out: site holds an index.html that no build wrote (no build's manifest.json beside it),"
        " which a build replaces; give the build a folder of its own, such as build"
    )
    assert tree(site) == {"index.html": WEB_PAGE.encode()}


@pytest.mark.parametrize("command", ["build", "distribute"])
def test_a_folder_holding_the_project_is_no_output_folder(tmp_path: Path, command: str) -> None:
    root = make_project(tmp_path / "above" / "project")
    (root / "r.csv").write_text(recipients(1), encoding="utf-8")
    before = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*"))
    for out in ("..", "/"):
        line = usage_error(run_briefgen(command, *OPTIONS[command], "--out", out, cwd=root))
        assert line == (
            f"briefgen: error: --out: {out} holds the project folder;"
            f" give {WHO[command]} a folder of its own, such as {FOLDERS[command][0]}"
        )
    assert sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*")) == before


def test_build_folders_old_and_new_empty_and_missing_are_built_into(tmp_path: Path) -> None:
    """A build folder (one an earlier briefgen wrote too: its manifest has always been {"briefs": [...]}, with
    fewer fields per brief), an empty folder and a folder that does not exist yet."""
    root = make_project(tmp_path / "project")
    older = {"briefs": [{"id": SAMPLE_ID, "source": f"sources/{SAMPLE_ID}.yaml", "outputs": {}}]}
    (root / "older").mkdir()
    (root / "older" / "manifest.json").write_text(json.dumps(older, indent=2) + "\n", encoding="utf-8")
    (root / "older" / "index.html").write_text("<p>an older catalogue</p>\n", encoding="utf-8")
    (root / "empty").mkdir()
    for out in ("older", "empty", "new", "new"):
        proc = run_briefgen("build", "--format", "html", "--out", out, cwd=root)
        assert proc.returncode == 0, proc.stderr
        manifest = json.loads((root / out / "manifest.json").read_text(encoding="utf-8"))
        assert [entry["id"] for entry in manifest["briefs"]] == [SAMPLE_ID]
        assert "an older catalogue" not in (root / out / "index.html").read_text(encoding="utf-8")


# --- an output folder inside another's -------------------------------------------------------------------


def test_a_build_inside_a_build_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    assert run_briefgen("build", "--format", "html", cwd=root).returncode == 0
    built = tree(root / "build")
    line = usage_error(run_briefgen("build", "--format", "html", "--out", "build/public", cwd=root))
    assert line == (
        "briefgen: error: --out: build/public lies inside build, a build's output folder;"
        " give the build a folder of its own, outside it"
    )
    assert tree(root / "build") == built


@pytest.mark.parametrize(
    ("command", "outer"), [("distribute", "build"), ("distribute", "distribute"), ("build", "distribute")]
)
def test_an_output_folder_inside_a_build_or_a_distribution_is_refused(tmp_path: Path, command: str, outer: str) -> None:
    root = make_project(tmp_path / "project")
    (root / "r.csv").write_text(recipients(1), encoding="utf-8")
    made = run_briefgen(outer, *OPTIONS[outer], cwd=root)
    assert made.returncode == 0, made.stderr
    folder, kind = FOLDERS[outer]
    before = tree(root / folder)
    line = usage_error(run_briefgen(command, *OPTIONS[command], "--out", f"{folder}/x/y", cwd=root))
    assert line == (
        f"briefgen: error: --out: {folder}/x/y lies inside {folder}, {kind}'s output folder;"
        f" give {WHO[command]} a folder of its own, outside it"
    )
    assert tree(root / folder) == before


# --- who holds a folder ------------------------------------------------------------------------------------


@pytest.mark.parametrize("holder", ["build", "distribute", None])
def test_a_held_folder_is_refused_naming_the_command_that_holds_it(tmp_path: Path, holder: str | None) -> None:
    """The lock names its holder; held by something that does not say (a bare lock), the message is neutral."""
    root = make_project(tmp_path / "project")
    (root / "r.csv").write_text(recipients(1), encoding="utf-8")
    out = root / "out"
    out.mkdir()
    for command, options in OPTIONS.items():
        with exclusive(out, holder) if holder else folder_lock(out):
            proc = run_briefgen(command, *options, "--out", "out", cwd=root)
        assert_no_traceback(proc)
        assert proc.returncode == 1
        assert proc.stderr.splitlines() == [
            f"out: error: another briefgen {holder or 'command'} is writing this folder; run again when it ends"
        ]
    assert list(out.iterdir()) == []


def test_a_second_distribution_is_refused_before_it_renders(tmp_path: Path) -> None:
    """The first holds the folder from its start (it is stopped there, with SIGSTOP, while it holds it); the
    second is refused before rendering anything: its broken source would otherwise be reported. The first then
    finishes as if alone."""
    root = make_project(tmp_path / "project", {"alpha.yaml": MEMO_TEXT})
    (root / "r.csv").write_text(recipients(3), encoding="utf-8")
    (root / "broken.yaml").write_text(SAMPLE_TEXT.replace("bottom_line:", "bottom_lines:", 1), encoding="utf-8")
    first = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "distribute", "--recipients", "r.csv", "--jobs", "1"],
        cwd=root,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        while not list((root / "dist").glob(".holder.*")) and first.poll() is None:
            time.sleep(0.02)
        os.killpg(first.pid, signal.SIGSTOP)
        assert first.poll() is None, first.communicate()
        second = run_briefgen("distribute", "broken.yaml", "--recipients", "r.csv", cwd=root)
        build = run_briefgen("build", "--format", "html", "--out", "dist", cwd=root)
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    stdout, stderr = first.communicate(timeout=300)
    for proc in (second, build):
        assert_no_traceback(proc)
        assert proc.returncode == 1
        assert proc.stderr.splitlines() == [
            "dist: error: another briefgen distribute is writing this folder; run again when it ends"
        ]
    assert first.returncode == 0, stderr
    assert stdout.splitlines()[-1] == "3 copies for 3 recipients; manifest in dist/manifest.json"
    assert sorted(tree(root / "dist")) == [
        "alpha/reader-0.pdf",
        "alpha/reader-1.pdf",
        "alpha/reader-2.pdf",
        "bundles/reader-0.zip",
        "bundles/reader-1.zip",
        "bundles/reader-2.zip",
        "manifest.json",
    ]


# --- a distribution that cannot write everything -------------------------------------------------------------


def distribute_with_files_limited(root: Path, limit: int) -> subprocess.CompletedProcess[str]:
    """distribute, in a process (and its workers) whose files cannot grow past limit bytes."""
    code = (
        f"import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
        "from briefgen.cli import main; sys.exit(main(['distribute', '--recipients', 'r.csv', '--jobs', '1']))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=child_env(), capture_output=True, text=True, timeout=600
    )
    assert_no_traceback(proc)
    return proc


BRIEFS = [f"b{n:02}" for n in range(20)]
# A copy (about 38 KB) fits, and the fonts WeasyPrint writes (up to 640 KB), but not a bundle of 20 copies.
LIMIT = 700_000


def tiny_project(root: Path, people: str) -> Path:
    """Twenty one-heading briefs for the recipients in people (a CSV)."""
    make_project(root, {f"{brief}.yaml": SAMPLE_TEXT for brief in BRIEFS})
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_text(TINY_TEMPLATE, encoding="utf-8")
    (root / "r.csv").write_text(people, encoding="utf-8")
    return root


def test_a_distribution_stopped_by_a_full_disk_keeps_the_copies_it_finished(tmp_path: Path) -> None:
    """Every copy is written, then the first bundle cannot be: the manifest lists every copy, each traceable."""
    root = tiny_project(tmp_path / "project", recipients(3))
    proc = distribute_with_files_limited(root, LIMIT)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["dist/bundles/reader-0.zip: error: cannot write output: File too large"]
    files = tree(root / "dist")
    assert sorted(files) == [f"{brief}/reader-{n}.pdf" for brief in BRIEFS for n in range(3)] + ["manifest.json"]
    listed = json.loads(files["manifest.json"])["copies"]
    assert sorted(row["path"] for row in listed) == sorted(set(files) - {"manifest.json"})
    assert "Reader 2, Institute" in pdf_text(root / "dist" / "b19" / "reader-2.pdf")
    traced = run_briefgen("trace", "dist/b19/reader-2.pdf", cwd=root)
    assert traced.stdout.endswith("prepared for Reader 2, Institute <r2@example.org>; the file is the copy as sent\n")


def test_a_distribution_whose_manifest_cannot_be_written_says_what_it_deleted(tmp_path: Path) -> None:
    """With no room for a manifest of the copies finished, they cannot be traced: they are deleted, with the
    folders left empty, and the command says so; an earlier distribution's manifest and copies stay.

    Names and organisations as long as a recipient's may be (500 letters), nearly all of them dashes of three
    bytes in UTF-8 (which the manifest keeps as they are): rows of about 3.3 KB, so that 260 copies (a manifest
    of about 850 KB) fill more than LIMIT, and the run stamps fewer copies than ASCII names would need."""
    dashes = "\u2014" * 489
    long = [f"Reader {n} {dashes},Institute {dashes}\u2014,r{n}@example.org" for n in range(13)]
    root = tiny_project(tmp_path / "project", "\n".join(["name,organisation,email", *long]) + "\n")
    proc = distribute_with_files_limited(root, LIMIT)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "dist/bundles/reader-0.zip: error: cannot write output: File too large",
        "dist/manifest.json: error: could not be written, so the 260 copies this run finished were deleted;"
        " the folder keeps no copies",
    ]
    assert not (root / "dist").exists()

    (root / "early.csv").write_text(
        recipients(1).replace("Reader 0", "Early Reader").replace("r0@", "early@"), encoding="utf-8"
    )
    assert run_briefgen("distribute", "--recipients", "early.csv", "--jobs", "1", cwd=root).returncode == 0
    before = tree(root / "dist")
    proc = distribute_with_files_limited(root, LIMIT)
    assert proc.stderr.splitlines()[1:] == [
        "dist/manifest.json: error: could not be written, so the 260 copies this run finished were deleted;"
        " the folder keeps only copies its earlier manifest lists"
    ]
    assert tree(root / "dist") == before
