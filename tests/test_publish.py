"""Stage 6, publish: the build folder holds complete outputs and a manifest that describes them."""

import fcntl
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import (
    REPO,
    SAMPLE_ID,
    SAMPLE_TEXT,
    Built,
    assert_no_traceback,
    line_of,
    make_project,
    replace_line,
    run_briefgen,
)
from pypdf import PdfReader

SERIES = line_of(SAMPLE_TEXT, "  series: Commentary")
BROKEN = replace_line(SAMPLE_TEXT, SERIES, "Commentary", "NO")


def manifest(root: Path, out: str = "build") -> dict:
    return json.loads((root / out / "manifest.json").read_text(encoding="utf-8"))


def entries(root: Path, out: str = "build") -> dict[str, dict]:
    return {entry["id"]: entry for entry in manifest(root, out)["briefs"]}


def leftovers(folder: Path) -> list[str]:
    """Temporary or hidden files a build must not leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp"))


def test_manifest_describes_the_outputs(sample_build: Built) -> None:
    document = manifest(sample_build.root)
    assert [entry["id"] for entry in document["briefs"]] == [SAMPLE_ID]
    [entry] = document["briefs"]
    assert entry["source"] == f"sources/{SAMPLE_ID}.yaml"
    assert set(entry["outputs"]) == {"pdf", "html"}
    assert entry["warnings"] == []
    for output_format, output in entry["outputs"].items():
        path = sample_build.build_dir / output["path"]
        assert path.name == f"{SAMPLE_ID}.{output_format}"
        data = path.read_bytes()
        assert output["sha256"] == hashlib.sha256(data).hexdigest()
        assert output["bytes"] == len(data)
    assert entry["outputs"]["pdf"]["pages"] == len(PdfReader(sample_build.pdf).pages)
    assert "pages" not in entry["outputs"]["html"]
    assert entry["summary"]["published_text"] == "16 November 2018"


def test_the_catalogue_dates_each_brief_as_the_brief_does(tmp_path: Path) -> None:
    """An English and a Russian brief in one catalogue: each date written out in its brief's language."""
    russian = (REPO / "sources" / f"{SAMPLE_ID}.ru.yaml").read_text(encoding="utf-8")
    root = make_project(tmp_path / "project", {"en.yaml": SAMPLE_TEXT, "ru.yaml": russian})
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    index = (root / "build" / "index.html").read_text(encoding="utf-8")
    assert index.count('<time datetime="2018-11-16">16 November 2018</time>') == 1
    assert index.count('<time datetime="2018-11-16">16 ноября 2018 г.</time>') == 1


def test_build_reports_what_it_built(sample_build: Built) -> None:
    pages = len(PdfReader(sample_build.pdf).pages)
    assert f"built   {SAMPLE_ID}: {SAMPLE_ID}.html, {SAMPLE_ID}.pdf ({pages} pages)" in sample_build.proc.stdout
    assert "1 built, 0 skipped, 0 failed; manifest in build/manifest.json" in sample_build.proc.stdout
    assert leftovers(sample_build.build_dir) == []


def test_format_html_writes_only_html(project: Path) -> None:
    proc = run_briefgen("build", "--format", "html", cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (project / "build").iterdir()) == [f"{SAMPLE_ID}.html", "index.html", "manifest.json"]
    assert set(entries(project)[SAMPLE_ID]["outputs"]) == {"html"}


def test_out_dir_is_honoured(project: Path) -> None:
    proc = run_briefgen("build", "--format", "html", "--out", "site/briefs", cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert (project / "site" / "briefs" / f"{SAMPLE_ID}.html").is_file()
    assert entries(project, "site/briefs")[SAMPLE_ID]["outputs"]["html"]["path"] == f"{SAMPLE_ID}.html"
    assert not (project / "build").exists()


def test_one_broken_source_does_not_stop_the_others(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"good.yaml": SAMPLE_TEXT, "bad.yaml": BROKEN})
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert f"sources/bad.yaml:{SERIES}:11: error: " in proc.stderr
    assert "failed  sources/bad.yaml" in proc.stderr
    assert "1 built, 0 skipped, 1 failed" in proc.stdout
    build = root / "build"
    assert (build / "good.html").is_file()
    assert not list(build.glob("bad.*"))
    assert leftovers(build) == []
    assert list(entries(root)) == ["good"]


def test_a_brief_failing_at_the_pdf_stage_leaves_no_outputs_at_all(tmp_path: Path) -> None:
    # the bad brief's HTML renders fine; its PDF then fails on a refused resource
    template = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{{ assessment.brief.title }}</title></head>'
        "<body><h1>{{ assessment.brief.title }}</h1>"
        '{% if assessment.brief.series == "Broken" %}<img src="file:///etc/passwd" alt="x">{% endif %}'
        "</body></html>\n"
    )
    bad = replace_line(SAMPLE_TEXT, SERIES, "Commentary", "Broken")
    root = make_project(tmp_path / "p", {"good.yaml": SAMPLE_TEXT, "bad.yaml": bad})
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_text(template, encoding="utf-8")
    proc = run_briefgen("build", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "/etc/passwd" in proc.stderr
    build = root / "build"
    assert sorted(p.name for p in build.iterdir()) == ["good.html", "good.pdf", "index.html", "manifest.json"]
    assert list(entries(root)) == ["good"]


def test_a_removed_source_disappears_from_the_manifest(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"one.yaml": SAMPLE_TEXT, "two.yaml": SAMPLE_TEXT})
    assert run_briefgen("build", "--format", "html", cwd=root).returncode == 0
    assert list(entries(root)) == ["one", "two"]
    (root / "sources" / "two.yaml").unlink()
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert list(entries(root)) == ["one"]
    assert not (root / "build" / "two.html").exists()
    assert "removed the outputs of 1 brief whose source is gone: two" in proc.stdout.splitlines()


def test_a_quiet_build_removes_outputs_without_saying_so(tmp_path: Path) -> None:
    sources = {"one.yaml": SAMPLE_TEXT, "two.yaml": SAMPLE_TEXT, "three.yaml": SAMPLE_TEXT}
    root = make_project(tmp_path / "p", sources)
    assert run_briefgen("build", "--format", "html", "--edition", "public,restricted", cwd=root).returncode == 0
    (root / "sources" / "two.yaml").unlink()
    (root / "sources" / "three.yaml").unlink()
    proc = run_briefgen("build", "--format", "html", "--edition", "public,restricted", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "removed the outputs of 2 briefs whose source is gone: three, two" in proc.stdout.splitlines()
    (root / "sources" / "one.yaml").rename(root / "sources" / "four.yaml")
    quiet = run_briefgen("build", "--format", "html", "--edition", "public,restricted", "--quiet", cwd=root)
    assert quiet.returncode == 0, quiet.stderr
    assert "removed" not in quiet.stdout
    assert not (root / "build" / "public" / "one.html").exists()


def test_building_one_source_keeps_the_others_in_the_manifest(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"one.yaml": SAMPLE_TEXT, "two.yaml": SAMPLE_TEXT})
    assert run_briefgen("build", "--format", "html", cwd=root).returncode == 0
    before = entries(root)
    proc = run_briefgen("build", "--format", "html", "sources/one.yaml", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert entries(root) == before


def test_rebuilding_gives_the_same_manifest(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    assert run_briefgen("build", "--format", "html", cwd=root).returncode == 0
    first = (root / "build" / "manifest.json").read_bytes()
    assert run_briefgen("build", "--format", "html", cwd=root).returncode == 0
    assert (root / "build" / "manifest.json").read_bytes() == first


def test_warnings_are_recorded_in_the_manifest(tmp_path: Path) -> None:
    refs = line_of(SAMPLE_TEXT, "    sources: [jorbenadze-2018, inf-treaty-1987]")
    text = replace_line(SAMPLE_TEXT, refs, ", inf-treaty-1987", "")
    root = make_project(tmp_path / "p", {"brief.yaml": text})
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    line = line_of(text, "  - id: inf-treaty-1987")
    warning = f"sources/brief.yaml:{line}:9: warning: source 'inf-treaty-1987' is never cited"
    assert warning in proc.stderr.splitlines()
    assert entries(root)["brief"]["warnings"] == [warning]


def test_a_second_build_into_a_busy_folder_is_refused(project: Path) -> None:
    build = project / "build"
    build.mkdir()
    handle = os.open(build, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = run_briefgen("build", "--format", "html", cwd=project)
    finally:
        os.close(handle)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "another briefgen command" in proc.stderr
    assert list(build.iterdir()) == []


def test_an_output_folder_that_is_a_file_is_an_error(project: Path) -> None:
    (project / "build").write_text("not a folder", encoding="utf-8")
    proc = run_briefgen("build", "--format", "html", cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.startswith("build: error: cannot use output folder: it is a file")


@pytest.mark.parametrize(
    ("out", "where"),
    [(".", "the project folder"), ("sources", "the project's sources"), ("templates/x", "the project's templates")],
)
def test_the_project_folder_is_no_build_folder(project: Path, out: str, where: str) -> None:
    before = sorted(path.relative_to(project) for path in project.rglob("*"))
    proc = run_briefgen("build", "--format", "html", "--out", out, cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"briefgen: error: --out: {out} is {where}; give the build a folder of its own, such as build"
    ]
    assert sorted(path.relative_to(project) for path in project.rglob("*")) == before


def test_a_build_leaves_a_distributions_manifest_alone(project: Path) -> None:
    """A distribution's manifest is the only record of whom each copy went to: a build never replaces it."""
    (project / "r.csv").write_text(
        "name,organisation,email\nAnna Petrova,Ministry,anna@example.org\n", encoding="utf-8"
    )
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--out", "dist", cwd=project)
    assert proc.returncode == 0, proc.stderr
    distribution = (project / "dist" / "manifest.json").read_bytes()
    proc = run_briefgen("build", "--format", "html", "--out", "dist", cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert "dist holds a distribution (its manifest.json lists stamped copies" in proc.stderr
    assert (project / "dist" / "manifest.json").read_bytes() == distribution
    assert not (project / "dist" / f"{SAMPLE_ID}.html").exists()


def test_two_sources_with_one_brief_id_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    (root / "drafts").mkdir()
    (root / "drafts" / f"{SAMPLE_ID}.yaml").write_text(SAMPLE_TEXT, encoding="utf-8")
    proc = run_briefgen("build", "--format", "html", f"sources/{SAMPLE_ID}.yaml", f"drafts/{SAMPLE_ID}.yaml", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr == (
        f"drafts/{SAMPLE_ID}.yaml: error: the same brief id, '{SAMPLE_ID}', as sources/{SAMPLE_ID}.yaml: "
        "their outputs would overwrite each other; rename one\n"
    )
    assert not (root / "build").exists()


def test_a_source_given_twice_is_built_once(project: Path) -> None:
    proc = run_briefgen(
        "build", "--format", "html", f"sources/{SAMPLE_ID}.yaml", f"./sources/{SAMPLE_ID}.yaml", cwd=project
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("1 built, 0 skipped, 0 failed")


def test_a_build_leaves_out_a_source_whose_file_name_makes_no_brief_id(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {f"{SAMPLE_ID}.yaml": SAMPLE_TEXT, "a#b.yaml": SAMPLE_TEXT})
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "sources/a#b.yaml: error: the file name makes the brief id 'a#b'" in proc.stderr
    assert sorted(path.name for path in (root / "build").glob("*.html")) == ["csto-astana-2018.html", "index.html"]
    assert "a#b" not in (root / "build" / "index.html").read_text(encoding="utf-8")


def test_a_broken_catalogue_template_keeps_the_briefs_says_so_in_the_summary_and_leaves_no_stale_catalogue(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "p")
    assert run_briefgen("build", "--format", "html", cwd=root).returncode == 0
    assert (root / "build" / "index.html").is_file()
    (root / "templates").mkdir()
    (root / "templates" / "index.html.j2").write_text(
        '{% extends "base.html.j2" %}\n{% block content %}{{ briefs | nosuch }}{% endblock %}\n', encoding="utf-8"
    )
    proc = run_briefgen("build", "--format", "html", "--force", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "templates/index.html.j2:2: error: template error: no filter named 'nosuch'" in proc.stderr
    assert proc.stdout.splitlines()[-1] == (
        "1 built, 0 skipped, 0 failed; manifest in build/manifest.json; no catalogue page (index.html): "
        "see the error above"
    )
    assert sorted(p.name for p in (root / "build").iterdir()) == [f"{SAMPLE_ID}.html", "manifest.json"]
    assert list(entries(root)) == [SAMPLE_ID]


def test_an_output_that_cannot_be_written_keeps_every_output_of_the_last_good_build(tmp_path: Path) -> None:
    """A brief whose PDF cannot be written (files limited in size, as a full disk limits them) keeps its old
    HTML too, not the new HTML beside the old PDF: outputs are written in full before any is put in place."""
    template = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>'
    template += "<h1>{{ assessment.brief.title }}</h1></body></html>\n"
    root = make_project(tmp_path / "p")
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_text(template, encoding="utf-8")
    assert run_briefgen("build", cwd=root).returncode == 0
    html, pdf = (root / "build" / f"{SAMPLE_ID}{suffix}" for suffix in (".html", ".pdf"))
    before = html.read_bytes(), pdf.read_bytes()
    assert len(before[0]) < 1_000 < 2_000 < len(before[1])  # the limit below lets the HTML through, not the PDF
    source = root / "sources" / f"{SAMPLE_ID}.yaml"
    source.write_text(
        SAMPLE_TEXT.replace('title: "United on arms control', 'title: "Still united', 1), encoding="utf-8"
    )
    limit = "import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (1_500, 1_500)); "
    proc = subprocess.run(
        [sys.executable, "-c", limit + "from briefgen.cli import main; sys.exit(main(['build', '--jobs', '1']))"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert f"build/{SAMPLE_ID}.pdf: error: cannot write output: File too large" in proc.stderr
    assert (html.read_bytes(), pdf.read_bytes()) == before
    assert leftovers(root / "build") == []


def test_a_brief_whose_build_fails_is_marked_outdated_until_it_builds_again(tmp_path: Path) -> None:
    """Its earlier outputs stay, marked in the manifest (with the errors) and in the catalogue; once the source
    is as it was, the outputs are up to date again, skipped, and the mark goes."""
    root = make_project(tmp_path / "p")
    assert run_briefgen("build", "--format", "html", cwd=root).returncode == 0
    good = entries(root)[SAMPLE_ID]
    source = root / "sources" / f"{SAMPLE_ID}.yaml"
    source.write_text(BROKEN, encoding="utf-8")
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 1
    marked = entries(root)[SAMPLE_ID]
    assert marked["outputs"] == good["outputs"]
    assert marked["outdated"] is True
    assert marked["errors"] == [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert marked["errors"][0].startswith(f"sources/{SAMPLE_ID}.yaml:{SERIES}:11: error: ")
    assert "Out of date: its last build failed" in (root / "build" / "index.html").read_text(encoding="utf-8")

    source.write_text(SAMPLE_TEXT, encoding="utf-8")
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("0 built, 1 skipped, 0 failed")
    assert entries(root)[SAMPLE_ID] == good
    assert "Out of date" not in (root / "build" / "index.html").read_text(encoding="utf-8")


def test_a_build_in_one_format_names_only_what_it_rendered(project: Path) -> None:
    """--force --format html renders the HTML alone; the PDF of the last build, still up to date, is kept and
    listed, and the line says so rather than calling it built."""
    assert run_briefgen("build", cwd=project).returncode == 0
    proc = run_briefgen("build", "--force", "--format", "html", cwd=project)
    assert proc.returncode == 0, proc.stderr
    line = f"built   {SAMPLE_ID}: {SAMPLE_ID}.html; kept {SAMPLE_ID}.pdf, still up to date"
    assert line in proc.stdout.splitlines()
    assert "pages" not in proc.stdout.split("build summary")[0]
    assert set(entries(project)[SAMPLE_ID]["outputs"]) == {"html", "pdf"}


def test_the_catalogue_is_rendered_again_only_when_what_it_shows_may_have_changed(tmp_path: Path) -> None:
    """A build with nothing to do leaves index.html as it was; an edited catalogue template, or a page
    changed by hand, is written again though every brief is skipped."""
    root = make_project(tmp_path / "p")
    assert run_briefgen("build", "--format", "html", cwd=root).returncode == 0
    index = root / "build" / "index.html"
    written = index.stat().st_mtime_ns, index.read_bytes()

    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0 and "0 built, 1 skipped" in proc.stdout
    assert (index.stat().st_mtime_ns, index.read_bytes()) == written

    template = (REPO / "templates" / "common" / "index.html.j2").read_text(encoding="utf-8")
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "index.html.j2").write_text(template.replace("<main", "<!-- house -->\n<main", 1))
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0 and "0 built, 1 skipped" in proc.stdout
    assert "<!-- house -->" in index.read_text(encoding="utf-8")

    index.write_text("edited by hand\n", encoding="utf-8")
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0 and "0 built, 1 skipped" in proc.stdout
    assert "<!-- house -->" in index.read_text(encoding="utf-8")
