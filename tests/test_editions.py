"""Editions: items and sections with an `audience` appear only in the editions it names.

Two sources restrict parts of the sample to the `restricted` edition: one a key judgment, the other
that judgment and the whole leverage section. Content is checked by text taken from the sources, not
by template wording.
"""

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
from helpers import (
    SAMPLE_TEXT,
    assert_no_traceback,
    column_of,
    html_text,
    line_of,
    make_project,
    pdf_pages_text,
    replace_once,
    run_briefgen,
)

from briefgen.config import ProjectConfig

JUDGMENT = "  - id: russia-stays-aloof\n"
LEVERAGE = "leverage:\n  power: russia\n"
RESTRICTED_JUDGMENT = replace_once(SAMPLE_TEXT, JUDGMENT, JUDGMENT + "    audience: [restricted]\n")
RESTRICTED_SECTION = replace_once(
    RESTRICTED_JUDGMENT, LEVERAGE, "leverage:\n  audience: [restricted]\n  power: russia\n"
)
SOURCES = {"judgment": RESTRICTED_JUDGMENT, "section": RESTRICTED_SECTION}

JUDGMENT_TEXT = "leaving Valery Semerikov in charge on an acting basis"  # the restricted judgment's statement
LEVERAGE_TEXT = "Russia is less the bloc's leader than its reason for existing"  # the leverage assessment
KEPT_TEXT = "Armenia will veto any renewed proposal"  # a judgment in every edition
BANNER = ProjectConfig().editions["restricted"].banner  # by default "Restricted: not for public distribution"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def restricted_texts(source: str) -> list[str]:
    return [JUDGMENT_TEXT, LEVERAGE_TEXT] if source == "section" else [JUDGMENT_TEXT]


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, subprocess.CompletedProcess[str]]]:
    """One project with both sources, built as the full brief, each edition alone, and both editions at once."""
    root = make_project(tmp_path_factory.mktemp("editions") / "project", {f"{n}.yaml": t for n, t in SOURCES.items()})
    runs = {
        "full": ("--out", "full"),
        "public": ("--edition", "public", "--out", "public"),
        "restricted": ("--edition", "restricted", "--out", "restricted"),
        "multi": ("sources/judgment.yaml", "--edition", "public,restricted", "--out", "multi"),
    }
    procs = {}
    for name, args in runs.items():
        procs[name] = run_briefgen("build", "--jobs", "1", "--format", "html", *args, cwd=root)
        assert_no_traceback(procs[name])
    return root, procs


def page_text(root: Path, proc: subprocess.CompletedProcess[str], relative: str) -> str:
    path = root / relative
    assert path.is_file(), f"{relative} was not built:\n{proc.stderr}"
    return html_text(path.read_text(encoding="utf-8")).text


@pytest.mark.parametrize("source", SOURCES)
def test_public_edition_leaves_out_what_is_restricted(editions, source: str) -> None:
    root, procs = editions
    text = page_text(root, procs["public"], f"public/{source}.html")
    assert KEPT_TEXT in text
    for restricted in restricted_texts(source):
        assert restricted not in text, f"{restricted!r} is in the public edition of {source}"
    assert f"sources/{source}.yaml" not in procs["public"].stderr


@pytest.mark.parametrize("build", ["full", "restricted"])
@pytest.mark.parametrize("source", SOURCES)
def test_full_brief_and_restricted_edition_keep_everything(editions, build: str, source: str) -> None:
    root, procs = editions
    assert procs[build].returncode == 0, procs[build].stderr
    text = page_text(root, procs[build], f"{build}/{source}.html")
    for kept in [KEPT_TEXT, *restricted_texts(source)]:
        assert kept in text, f"{kept!r} is missing from the {build} build of {source}"


def test_several_editions_each_get_a_folder(editions) -> None:
    root, procs = editions
    proc = procs["multi"]
    assert proc.returncode == 0, proc.stderr
    out = root / "multi"
    entries = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["briefs"]
    assert sorted((entry["id"], entry["edition"]) for entry in entries) == [
        ("judgment", "public"),
        ("judgment", "restricted"),
    ]
    for entry in entries:
        output = entry["outputs"]["html"]
        assert output["path"] == f"{entry['edition']}/judgment.html"
        assert hashlib.sha256((out / output["path"]).read_bytes()).hexdigest() == output["sha256"]
    assert not (out / "judgment.html").exists()
    public = page_text(out, proc, "public/judgment.html")
    restricted = page_text(out, proc, "restricted/judgment.html")
    assert KEPT_TEXT in public and JUDGMENT_TEXT not in public
    assert KEPT_TEXT in restricted and JUDGMENT_TEXT in restricted


def _build_lines(index: str) -> list[tuple[str, ...]]:
    """Each line of a catalogue's lists of builds: its words, then the addresses it links to."""
    lines = re.findall(r"<li>.*?</li>", index, re.DOTALL)
    return [(html_text(line).text, *re.findall(r'href="([^"]+)"', line)) for line in lines]


def test_the_catalogue_lists_a_briefs_editions_under_one_entry(editions) -> None:
    root, _ = editions
    index = (root / "multi" / "index.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<article", index)) == 1
    assert _build_lines(index) == [
        ("Public edition HTML", "public/judgment.html"),
        ("Restricted edition HTML", "restricted/judgment.html"),
    ]
    assert "edition" not in html_text((root / "full" / "index.html").read_text(encoding="utf-8")).text


def test_one_edition_built_into_two_places_is_told_apart_in_the_catalogue(tmp_path: Path) -> None:
    """--edition public alone writes into the build folder itself; --edition public,restricted into public/
    and restricted/. The catalogue then lists the public edition twice, and says where each one lies."""
    root = make_project(tmp_path / "p", {"judgment.yaml": SOURCES["judgment"]})
    for editions in ("public", "public,restricted"):
        proc = run_briefgen("build", "--jobs", "1", "--format", "html", "--edition", editions, cwd=root)
        assert proc.returncode == 0, proc.stderr
    index = (root / "build" / "index.html").read_text(encoding="utf-8")
    assert _build_lines(index) == [
        ("Public edition HTML", "judgment.html"),
        ("Public edition public/ HTML", "public/judgment.html"),
        ("Restricted edition HTML", "restricted/judgment.html"),
    ]


def test_editions_are_skipped_when_nothing_changed(editions) -> None:
    root, _ = editions
    proc = run_briefgen(
        "build",
        "sources/judgment.yaml",
        "--jobs",
        "1",
        "--format",
        "html",
        "--edition",
        "public,restricted",
        "--out",
        "multi",
        cwd=root,
    )
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0 built, 2 skipped, 0 failed; manifest in multi/manifest.json"


def test_going_from_one_edition_to_several_writes_every_folder(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"judgment.yaml": RESTRICTED_JUDGMENT})
    first = run_briefgen("build", "--jobs", "1", "--format", "html", "--edition", "restricted", cwd=root)
    assert first.returncode == 0, first.stderr
    proc = run_briefgen("build", "--jobs", "1", "--format", "html", "--edition", "public,restricted", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    entries = json.loads((root / "build" / "manifest.json").read_text(encoding="utf-8"))["briefs"]
    paths = {entry["edition"]: entry["outputs"]["html"]["path"] for entry in entries}
    assert paths == {"public": "public/judgment.html", "restricted": "restricted/judgment.html"}
    assert (root / "build" / "public" / "judgment.html").is_file()
    assert (root / "build" / "restricted" / "judgment.html").is_file(), f"stdout:\n{proc.stdout}"


def test_the_manifest_matches_the_files_after_building_an_edition(tmp_path: Path) -> None:
    """The full brief and a single edition both write build/ID.html; the manifest must describe what is there."""
    root = make_project(tmp_path / "project", {"judgment.yaml": RESTRICTED_JUDGMENT})
    for args in ((), ("--edition", "public")):
        proc = run_briefgen("build", "--jobs", "1", "--format", "html", *args, cwd=root)
        assert_no_traceback(proc)
        assert proc.returncode == 0, proc.stderr
    entries = json.loads((root / "build" / "manifest.json").read_text(encoding="utf-8"))["briefs"]
    stale = [
        (entry["id"], entry["edition"], output["path"])
        for entry in entries
        for output in entry["outputs"].values()
        if hashlib.sha256((root / "build" / output["path"]).read_bytes()).hexdigest() != output["sha256"]
    ]
    assert stale == [], f"manifest entries whose sha256 does not match the file: {stale}"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (("build", "--format", "html", "--edition", "secret"), "the project's editions are: public, restricted"),
        (("build", "--edition", "public,publik"), "did you mean 'public'?"),
        (("render", "sources/judgment.yaml", "-o", "out.html", "--edition", "secret"), "the project's editions"),
    ],
    ids=["build", "build-misspelt", "render"],
)
def test_an_unknown_edition_is_bad_usage(tmp_path: Path, command: tuple[str, ...], message: str) -> None:
    root = make_project(tmp_path / "project", {"judgment.yaml": RESTRICTED_JUDGMENT})
    proc = run_briefgen(*command, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    [error] = proc.stderr.splitlines()
    assert error.startswith("briefgen: error: --edition: unknown edition ") and message in error, error
    assert not (root / "build").exists() and not (root / "out.html").exists()


def test_an_unknown_audience_is_located_with_a_suggestion(check) -> None:
    text = replace_once(SAMPLE_TEXT, JUDGMENT, JUDGMENT + "    audience: [restrictd]\n")
    line = line_of(text, "audience: [restrictd]")
    checked = check(text)
    assert checked.code == 1
    prefix = f"sources/brief.yaml:{line}:{column_of(text, line, 'restrictd')}: error: "
    assert [diagnostic for diagnostic in checked.lines if diagnostic.startswith(prefix)], checked.stderr
    [diagnostic] = checked.lines
    assert "'restrictd'" in diagnostic and "did you mean 'restricted'?" in diagnostic


def citing_a_restricted_source() -> tuple[str, int, int]:
    """A public key judgment that cites a source only the restricted edition keeps; the place of the citation."""
    judgment = "    sources: [jorbenadze-2018]\n\noutcomes:"
    text = replace_once(SAMPLE_TEXT, judgment, "    sources: [jorbenadze-2018, inf-treaty-1987]\n\noutcomes:")
    # the one outcome citing it now cites only the other source, so the judgment is the only problem
    outcome = "    sources: [jorbenadze-2018, inf-treaty-1987]\n\ncohesion:"
    text = replace_once(text, outcome, "    sources: [jorbenadze-2018]\n\ncohesion:")
    text = replace_once(text, "  - id: inf-treaty-1987\n", "  - id: inf-treaty-1987\n    audience: [restricted]\n")
    line = line_of(text, "sources: [jorbenadze-2018, inf-treaty-1987]")
    return text, line, column_of(text, line, "inf-treaty-1987")


def test_a_public_item_citing_a_restricted_source_is_located(check) -> None:
    text, line, column = citing_a_restricted_source()
    checked = check(text)
    assert checked.code == 1
    [diagnostic] = checked.lines
    assert diagnostic.startswith(f"sources/brief.yaml:{line}:{column}: error: "), checked.stderr
    assert "'inf-treaty-1987'" in diagnostic


def test_that_error_names_the_edition_that_leaves_the_source_out(check) -> None:
    text, _, _ = citing_a_restricted_source()
    [diagnostic] = check(text).lines
    assert "public" in diagnostic, f"the message should say the public edition leaves the source out: {diagnostic}"


def test_the_restricted_pdf_carries_its_banner_on_every_page(tmp_path: Path) -> None:
    assert BANNER
    root = make_project(tmp_path / "project", {"judgment.yaml": RESTRICTED_JUDGMENT})
    proc = run_briefgen("build", "--jobs", "1", "--format", "pdf", "--edition", "restricted", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    pages = pdf_pages_text(root / "build" / "judgment.pdf")
    assert JUDGMENT_TEXT in " ".join(pages)
    # compared without case and spacing: a stylesheet may set the banner in capitals or letter-spaced
    banner = squeeze(BANNER)
    missing = [number for number, page in enumerate(pages, 1) if banner not in squeeze(page)]
    assert missing == [], f"pages of the restricted edition without the banner {BANNER!r}: {missing} of {len(pages)}"


def test_no_page_of_an_edition_ends_with_a_lone_label(tmp_path: Path) -> None:
    """A public edition whose page break once fell between an outcome's EVIDENCE label and its text."""
    text = SAMPLE_TEXT
    for item in ("  - id: belarusian-successor\n", "  - id: inf-treaty-support\n", "  - id: inf-treaty-1987\n"):
        text = replace_once(text, item, f"{item}    audience: [restricted]\n")
    text = replace_once(text, "    - id: inf-treaty\n", "    - id: inf-treaty\n      audience: [restricted]\n")
    root = make_project(tmp_path / "project", {"edition.yaml": text})
    proc = run_briefgen("build", "--format", "pdf", "--edition", "public", cwd=root)
    assert proc.returncode == 0, proc.stderr
    pages = pdf_pages_text(root / "build" / "edition.pdf")
    assert len(pages) > 1
    lone_label = re.compile(r"\b(EVIDENCE|ACTORS|SOURCES)\s+CSTO summit · Astana")  # then the running footer
    for number, page in enumerate(pages, start=1):
        assert not lone_label.search(page), f"page {number} ends: {page[-200:]}"


def test_beside_editions_the_catalogue_marks_the_full_brief_as_holding_everything(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"judgment.yaml": RESTRICTED_JUDGMENT})
    for editions in ([], ["--edition", "public,restricted"]):
        proc = run_briefgen("build", "--format", "html", *editions, cwd=root)
        assert proc.returncode == 0, proc.stderr
    catalogue = html_text((root / "build" / "index.html").read_text(encoding="utf-8")).text
    assert catalogue.count("Full brief, every audience") == 1
    assert catalogue.count("Public edition") == 1 and catalogue.count("Restricted edition") == 1


def test_without_editions_the_catalogue_marks_no_brief(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"judgment.yaml": RESTRICTED_JUDGMENT})
    assert run_briefgen("build", "--format", "html", cwd=root).returncode == 0
    assert "every audience" not in (root / "build" / "index.html").read_text(encoding="utf-8")
