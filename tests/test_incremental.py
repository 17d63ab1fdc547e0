"""Incremental builds: an unchanged brief is skipped and its outputs left alone; any change it depends on
(its source, a template on its search path, the config, a file its PDF loaded, a missing output, --force)
renders it again.

Whether an output was written again is read from the file itself: a rewritten output is a new file
(briefgen writes a temporary file and renames it into place), so its inode and mtime change.
"""

import base64
import hashlib
import json
import re
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import (
    SAMPLE_TEXT,
    as_memo,
    assert_no_traceback,
    child_env,
    collapse,
    make_project,
    replace_once,
    run_briefgen,
)

from briefgen import incremental
from briefgen.formats import Format
from briefgen.incremental import shared_digest
from briefgen.pipeline import Project
from briefgen.publish import BriefResult
from briefgen.publish import build as build_with_api

TITLE = "United on arms control, divided over itself: the CSTO after Astana"
BRIEFS = {"brief-a": "Brief A", "brief-b": "Brief B"}
STATUS = re.compile(r"^(built|skipped)\s+(\S+?):")
SUMMARY = re.compile(r"^(\d+) built, (\d+) skipped, (\d+) failed; manifest in \S+$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
BOTTOM_LINE_START = "bottom_line: >-\n  Astana exposed"

# A whole-page template that loads an image from the project by a URL relative to the project root.
IMAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ assessment.brief.title }}</title></head>
<body><h1>{{ assessment.brief.title }}</h1><p><img src="assets/x.png" alt="x" width="20" height="20"></p></body>
</html>
"""
# The same, with the image embedded in the page as a data: URL by the template function embed().
EMBED_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ assessment.brief.title }}</title></head>
<body><h1>{{ assessment.brief.title }}</h1><p><img src="{{ embed('assets/x.png') }}" alt="x"></p></body>
</html>
"""
BOTTOM_LINE_OVERRIDE = """<section class="bottom-line" id="bottom-line">
<h2>Bottom line (project override)</h2>
{{ assessment.bottom_line | prose }}
</section>
"""


def png(rgb: tuple[int, int, int]) -> bytes:
    """A valid 1x1 RGB PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgb))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def titled(brief_id: str) -> str:
    return replace_once(SAMPLE_TEXT, f'title: "{TITLE}"', f'title: "{BRIEFS[brief_id]}: {TITLE}"')


def two_briefs(root: Path) -> Path:
    return make_project(root, {f"{brief_id}.yaml": titled(brief_id) for brief_id in BRIEFS})


def two_memos(root: Path) -> Path:
    """The two briefs as one-page memos: for tests of which outputs a build keeps, whatever they show."""
    return make_project(root, {f"{brief_id}.yaml": as_memo(titled(brief_id)) for brief_id in BRIEFS})


def build(root: Path, *args: str, formats: str = "html") -> dict[str, str]:
    """Run a build (one process, so it is quick and its output ordered); return each brief's status."""
    proc = run_briefgen("build", "--jobs", "1", "--format", formats, *args, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    statuses = {}
    for line in proc.stdout.splitlines():
        if match := STATUS.match(line):
            statuses[match[2]] = match[1]
    summary = proc.stdout.strip().splitlines()[-1]
    match = SUMMARY.match(summary)
    assert match, f"no summary line: {summary!r}"
    counts = list(statuses.values())
    assert (int(match[1]), int(match[2]), int(match[3])) == (counts.count("built"), counts.count("skipped"), 0)
    return statuses


def identities(root: Path) -> dict[str, tuple[int, int]]:
    """Each output file of the build folder (not the manifest or index) with its inode and mtime."""
    folder = root / "build"
    return {
        path.relative_to(folder).as_posix(): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in {"manifest.json", "index.html"}
    }


def manifest(root: Path) -> dict[str, dict]:
    entries = json.loads((root / "build" / "manifest.json").read_text(encoding="utf-8"))["briefs"]
    return {entry["id"]: entry for entry in entries}


def all_built() -> dict[str, str]:
    return dict.fromkeys(BRIEFS, "built")


def all_skipped() -> dict[str, str]:
    return dict.fromkeys(BRIEFS, "skipped")


@pytest.fixture(scope="module")
def full_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two briefs built to PDF and HTML with the built-in templates."""
    root = two_briefs(tmp_path_factory.mktemp("incremental") / "project")
    assert build(root, formats="pdf,html") == all_built()
    return root


def test_nothing_changed_skips_every_brief_without_loading_weasyprint(full_build: Path) -> None:
    root = full_build
    before = identities(root)
    entries = manifest(root)
    assert set(before) == {f"{brief_id}.{suffix}" for brief_id in BRIEFS for suffix in ("pdf", "html")}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "briefgen", "build", "--jobs", "1"],
        cwd=root,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    statuses = {match[2]: match[1] for line in proc.stdout.splitlines() if (match := STATUS.match(line))}
    assert statuses == all_skipped()
    assert proc.stdout.strip().splitlines()[-1] == "0 built, 2 skipped, 0 failed; manifest in build/manifest.json"
    imported = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert imported, "python -X importtime printed nothing"
    assert any(re.search(r"\|\s+briefgen\.publish$", line) for line in imported)
    assert not [line for line in imported if re.search(r"\|\s+weasyprint\b", line)], "a no-op build imported WeasyPrint"
    assert identities(root) == before
    assert manifest(root) == entries


def test_manifest_outputs_carry_cache_keys(full_build: Path) -> None:
    entries = manifest(full_build)
    assert set(entries) == set(BRIEFS)
    keys = []
    for entry in entries.values():
        assert set(entry["outputs"]) == {"pdf", "html"}
        for output in entry["outputs"].values():
            assert HEX64.match(output.get("cache_key", "")), output
            keys.append(output["cache_key"])
    assert len(set(keys)) == len(keys), "two outputs (other format or other source) share a cache key"


def test_index_links_every_brief_with_its_title(full_build: Path) -> None:
    links = _links((full_build / "build" / "index.html").read_text(encoding="utf-8"))
    for brief_id, entry in manifest(full_build).items():
        target = entry["outputs"]["html"]["path"]
        assert target == f"{brief_id}.html"
        titles = [text for href, text in links if href == target]
        assert any(f"{BRIEFS[brief_id]}: {TITLE}" in text for text in titles), (target, links)


def test_changing_one_source_rebuilds_only_it(tmp_path: Path) -> None:
    root = two_briefs(tmp_path / "project")
    assert build(root) == all_built()
    before = identities(root)
    keys = {brief_id: entry["outputs"]["html"]["cache_key"] for brief_id, entry in manifest(root).items()}
    source = root / "sources" / "brief-b.yaml"
    source.write_text(
        replace_once(titled("brief-b"), BOTTOM_LINE_START, "bottom_line: >-\n  Revised: Astana exposed"),
        encoding="utf-8",
    )
    assert build(root) == {"brief-a": "skipped", "brief-b": "built"}
    after = identities(root)
    assert after["brief-a.html"] == before["brief-a.html"]
    assert after["brief-b.html"] != before["brief-b.html"]
    assert "Revised: Astana exposed" in collapse((root / "build" / "brief-b.html").read_text(encoding="utf-8"))
    after_keys = {brief_id: entry["outputs"]["html"]["cache_key"] for brief_id, entry in manifest(root).items()}
    assert after_keys["brief-a"] == keys["brief-a"]
    assert after_keys["brief-b"] != keys["brief-b"]


def test_a_project_template_override_rebuilds_every_brief(tmp_path: Path) -> None:
    root = two_briefs(tmp_path / "project")
    assert build(root) == all_built()
    keys = {brief_id: entry["outputs"]["html"]["cache_key"] for brief_id, entry in manifest(root).items()}
    before = identities(root)
    override = root / "templates" / "partials" / "bottom_line.html.j2"
    override.parent.mkdir(parents=True)
    override.write_text(BOTTOM_LINE_OVERRIDE, encoding="utf-8")
    assert build(root) == all_built()
    after = identities(root)
    assert all(after[name] != before[name] for name in before)
    assert all(manifest(root)[brief_id]["outputs"]["html"]["cache_key"] != keys[brief_id] for brief_id in BRIEFS)
    assert build(root) == all_skipped()


def test_editing_a_theme_rebuilds_only_the_briefs_rendered_with_it(tmp_path: Path) -> None:
    """brief-a is rendered with a project theme, house (which extends brief); brief-b with the default."""
    root = make_project(
        tmp_path / "project",
        {
            "brief-a.yaml": replace_once(titled("brief-a"), "  language: en\n", "  language: en\n  theme: house\n"),
            "brief-b.yaml": titled("brief-b"),
        },
    )
    house = root / "templates" / "themes" / "house"
    (house / "partials").mkdir(parents=True)
    (house / "theme.yaml").write_text("description: Our house style\nextends: brief\n", encoding="utf-8")
    override = house / "partials" / "bottom_line.html.j2"
    override.write_text(BOTTOM_LINE_OVERRIDE, encoding="utf-8")
    assert build(root) == all_built()
    assert manifest(root)["brief-a"]["themes"] == ["house", "brief"]
    assert manifest(root)["brief-b"]["themes"] == ["brief"]

    override.write_text(BOTTOM_LINE_OVERRIDE.replace("project override", "house, edited"), encoding="utf-8")
    assert build(root) == {"brief-a": "built", "brief-b": "skipped"}
    assert "house, edited" in (root / "build" / "brief-a.html").read_text(encoding="utf-8")
    # a theme.yaml is read by every brief (any theme may be named): changing a setting rebuilds them all
    (house / "theme.yaml").write_text("description: Our house style\nextends: brief\npages: 9\n", encoding="utf-8")
    assert build(root) == all_built()
    assert build(root) == all_skipped()


def test_changing_the_config_rebuilds_every_brief(tmp_path: Path) -> None:
    root = two_briefs(tmp_path / "project")
    (root / "briefgen.yaml").write_text('colours:\n  accent: "#1b3a5c"\n', encoding="utf-8")
    assert build(root) == all_built()
    before = identities(root)
    (root / "briefgen.yaml").write_text('colours:\n  accent: "#7a1f1f"\n', encoding="utf-8")
    assert build(root) == all_built()
    assert all(identities(root)[name] != before[name] for name in before)
    assert build(root) == all_skipped()


def test_a_theme_given_on_the_command_line_rebuilds_and_so_does_leaving_it_off(tmp_path: Path) -> None:
    root = two_briefs(tmp_path / "project")
    assert build(root) == all_built()
    assert build(root, "--theme", "memo") == all_built()
    assert all(entry["themes"][0] == "memo" for entry in manifest(root).values())
    assert "theme-memo" in (root / "build" / "brief-a.html").read_text(encoding="utf-8")
    assert build(root, "--theme", "memo") == all_skipped()
    assert build(root) == all_built()
    assert all(entry["themes"][0] == "brief" for entry in manifest(root).values())


def test_a_project_moved_elsewhere_keeps_its_keys(tmp_path: Path) -> None:
    first = two_briefs(tmp_path / "first")
    assert build(first) == all_built()
    moved = tmp_path / "elsewhere" / "moved project"
    moved.parent.mkdir()
    first.rename(moved)
    assert build(moved) == all_skipped()
    second = two_briefs(tmp_path / "second")
    build(second)
    assert (second / "build" / "manifest.json").read_bytes() == (moved / "build" / "manifest.json").read_bytes()


def test_force_rebuilds_every_brief_to_the_same_bytes(tmp_path: Path) -> None:
    root = two_briefs(tmp_path / "project")
    assert build(root) == all_built()
    before = identities(root)
    contents = {name: (root / "build" / name).read_bytes() for name in before}
    assert build(root, "--force") == all_built()
    assert all(identities(root)[name] != before[name] for name in before)
    assert {name: (root / "build" / name).read_bytes() for name in before} == contents


def test_a_deleted_output_is_rebuilt(tmp_path: Path) -> None:
    root = two_briefs(tmp_path / "project")
    assert build(root) == all_built()
    before = identities(root)
    (root / "build" / "brief-a.html").unlink()
    assert build(root) == {"brief-a": "built", "brief-b": "skipped"}
    after = identities(root)
    assert (root / "build" / "brief-a.html").is_file()
    assert after["brief-b.html"] == before["brief-b.html"]


def test_a_removed_source_leaves_the_manifest_with_its_outputs(tmp_path: Path) -> None:
    root = two_briefs(tmp_path / "project")
    assert build(root) == all_built()
    assert (root / "build" / "brief-b.html").is_file()
    (root / "sources" / "brief-b.yaml").unlink()
    assert build(root) == {"brief-a": "skipped"}
    assert set(manifest(root)) == {"brief-a"}
    assert not (root / "build" / "brief-b.html").exists()
    assert sorted(p.name for p in (root / "build").iterdir()) == ["brief-a.html", "index.html", "manifest.json"]
    hrefs = {href for href, _ in _links((root / "build" / "index.html").read_text(encoding="utf-8"))}
    assert "brief-a.html" in hrefs and "brief-b.html" not in hrefs


def test_an_image_the_pdf_loads_is_an_input(tmp_path: Path) -> None:
    root = two_briefs(tmp_path / "project")
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_text(IMAGE_TEMPLATE, encoding="utf-8")
    image = root / "assets" / "x.png"
    image.parent.mkdir()
    image.write_bytes(png((200, 30, 30)))
    assert build(root, formats="pdf,html") == all_built()
    red = hashlib.sha256(image.read_bytes()).hexdigest()
    for entry in manifest(root).values():
        assert entry["inputs"] == {"assets/x.png": red}
    assert build(root, formats="pdf,html") == all_skipped()
    before = identities(root)

    image.write_bytes(png((30, 30, 200)))
    assert build(root, formats="pdf,html") == all_built()
    blue = hashlib.sha256(image.read_bytes()).hexdigest()
    for entry in manifest(root).values():
        assert entry["inputs"] == {"assets/x.png": blue}
    after = identities(root)
    assert all(after[name] != before[name] for name in before if name.endswith(".pdf"))
    assert build(root, formats="pdf,html") == all_skipped()


def test_an_image_embedded_in_the_html_is_an_input(tmp_path: Path) -> None:
    """embed() copies a project file into the HTML page, so the page is stale once the file changes."""
    root = two_briefs(tmp_path / "project")
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_text(EMBED_TEMPLATE, encoding="utf-8")
    image = root / "assets" / "x.png"
    image.parent.mkdir()
    image.write_bytes(png((200, 30, 30)))
    assert build(root) == all_built()
    image.write_bytes(png((30, 30, 200)))
    statuses = build(root)
    page = (root / "build" / "brief-a.html").read_text(encoding="utf-8")
    embedded = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert embedded == [base64.b64encode(image.read_bytes()).decode("ascii")], (
        f"the HTML still embeds the old image after it changed (statuses of the second build: {statuses})"
    )
    assert statuses == all_built()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._open: list[list[str]] = []
        self._hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._hrefs.append(dict(attrs).get("href") or "")
            self._open.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            self.links.append((self._hrefs.pop(), collapse("".join(self._open.pop()))))

    def handle_data(self, data: str) -> None:
        for parts in self._open:
            parts.append(data)


def _links(document: str) -> list[tuple[str, str]]:
    """Every link of a page: its href and its text."""
    parser = _Links()
    parser.feed(document)
    parser.close()
    return parser.links


def test_the_versions_and_the_allowed_hosts_are_in_every_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = two_briefs(tmp_path / "project")
    project = Project.open(root)
    before = shared_digest(project)
    assert shared_digest(Project.open(root, allow_hosts=["example.org"])) != before
    monkeypatch.setattr(incremental, "__version__", "0.0.0-other")
    assert shared_digest(project) != before


def test_an_output_in_a_format_not_built_stays_listed_while_up_to_date(tmp_path: Path) -> None:
    root = two_memos(tmp_path / "project")
    assert build(root, formats="pdf,html") == all_built()
    pdf_before = identities(root)["brief-a.pdf"]
    assert build(root, "--force") == all_built()  # html only
    assert identities(root)["brief-a.pdf"] == pdf_before
    assert set(manifest(root)["brief-a"]["outputs"]) == {"html", "pdf"}
    assert build(root, formats="pdf") == all_skipped()


def test_an_output_in_a_format_not_built_goes_when_out_of_date(tmp_path: Path) -> None:
    root = two_memos(tmp_path / "project")
    assert build(root, formats="pdf,html") == all_built()
    source = root / "sources" / "brief-a.yaml"
    source.write_text(replace_once(source.read_text(encoding="utf-8"), "Brief A:", "Brief A, edited:"), "utf-8")
    proc = run_briefgen("build", "--jobs", "1", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "removed 1 output out of date in a format not built this time: brief-a.pdf" in proc.stdout
    assert not (root / "build" / "brief-a.pdf").exists()
    assert (root / "build" / "brief-b.pdf").is_file()
    entries = manifest(root)
    assert set(entries["brief-a"]["outputs"]) == {"html"}
    assert set(entries["brief-b"]["outputs"]) == {"html", "pdf"}
    assert build(root, formats="pdf") == {"brief-a": "built", "brief-b": "skipped"}


# Changes no brief's output depends on: each is made to a built project, whose next build must skip every brief.
UNUSED_BY_BRIEFS = {
    "an editor's swap file": lambda root: _write(root / "templates" / ".masthead.html.j2.swp", b"\0swap"),
    "an empty dotfile": lambda root: _write(root / "templates" / ".x", b""),
    "a file in a hidden folder": lambda root: _write(root / "templates" / ".git" / "index", b"DIRC"),
    "the catalogue's template, ejected and edited": lambda root: _eject_and_edit(root, "index.html.j2"),
    "the stamps' template, ejected and edited": lambda root: _eject_and_edit(root, "stamp.html.j2"),
    "a comment in the config": lambda root: _append(root / "briefgen.yaml", "# a note to the team\n"),
    "a blank line in a theme's theme.yaml": lambda root: _append(root / "templates/themes/house/theme.yaml", "\n"),
    "a theme's description": lambda root: _write(
        root / "templates/themes/house/theme.yaml", b"description: Renamed\nextends: brief\n"
    ),
}


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _eject_and_edit(root: Path, name: str) -> None:
    proc = run_briefgen("templates", "eject", name, cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _append(root / "templates" / name, "{# edited #}\n")


def _project_with_a_house_theme(root: Path) -> Path:
    root = two_briefs(root)
    (root / "briefgen.yaml").write_text('colours:\n  accent: "#1b3a5c"\n', encoding="utf-8")
    house = root / "templates" / "themes" / "house"
    house.mkdir(parents=True)
    (house / "theme.yaml").write_text("description: Our house style\nextends: brief\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("change", list(UNUSED_BY_BRIEFS))
def test_a_change_no_brief_depends_on_rebuilds_nothing(tmp_path: Path, change: str) -> None:
    root = _project_with_a_house_theme(tmp_path / "project")
    assert build(root) == all_built()
    before = identities(root)
    UNUSED_BY_BRIEFS[change](root)
    assert build(root) == all_skipped()
    assert identities(root) == before


def test_an_edited_catalogue_template_still_changes_the_catalogue(tmp_path: Path) -> None:
    root = two_briefs(tmp_path / "project")
    assert build(root) == all_built()
    proc = run_briefgen("templates", "eject", "index.html.j2", cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    template = root / "templates" / "index.html.j2"
    template.write_text(replace_once(template.read_text(encoding="utf-8"), "<body", "<!-- ours --><body"), "utf-8")
    assert build(root) == all_skipped()
    assert "<!-- ours -->" in (root / "build" / "index.html").read_text(encoding="utf-8")


def test_a_hidden_file_a_template_includes_is_still_an_input(tmp_path: Path) -> None:
    root = two_briefs(tmp_path / "project")
    partial = root / "templates" / "partials" / "bottom_line.html.j2"
    _write(partial, BOTTOM_LINE_OVERRIDE.replace("</h2>", "</h2>{% include '.heading-note.j2' %}").encode())
    hidden = root / "templates" / ".heading-note.j2"
    _write(hidden, b"<p>first note</p>")
    assert build(root) == all_built()
    _write(hidden, b"<p>second note</p>")
    assert build(root) == all_built()
    assert "second note" in (root / "build" / "brief-a.html").read_text(encoding="utf-8")


def test_a_setting_in_a_theme_yaml_still_rebuilds(tmp_path: Path) -> None:
    root = _project_with_a_house_theme(tmp_path / "project")
    assert build(root) == all_built()
    _append(root / "templates/themes/house/theme.yaml", "pages: 2\n")
    assert build(root) == all_built()


def _built_outputs(root: Path, out: str) -> dict[str, bytes]:
    folder = root / out
    return {path.name: path.read_bytes() for path in sorted(folder.glob("brief-*"))}


def _three_briefs(root: Path) -> Path:
    sources = {f"brief-{letter}.yaml": titled("brief-a").replace("Brief A:", f"Brief {letter}:") for letter in "abc"}
    root = make_project(root, sources)
    _write(root / "templates" / "partials" / "bottom_line.html.j2", BOTTOM_LINE_OVERRIDE.encode())
    return root


def _build_editing_between_briefs(root: Path, edits: dict[int, object]) -> list[int]:
    """Build with the Python API in this process, one brief after another, running edits[N]() once N briefs
    are done (while the next waits to be rendered); return what on_changed was given."""
    project = Project.open(root)
    sources = project.sources()
    done: list[BriefResult] = []
    changed: list[int] = []

    def on_result(result: BriefResult) -> None:
        done.append(result)
        if edit := edits.get(len(done)):
            edit()

    build_with_api(sources, project, root / "build", [Format.HTML], on_result, jobs=1, on_changed=changed.append)
    return changed


def test_a_template_edited_and_undone_during_a_build_leaves_no_stale_output(tmp_path: Path) -> None:
    """brief-b is rendered with an edit made after brief-a and undone after brief-b: the next build must not
    keep it, whatever the timing, so that its outputs end as a build from scratch would make them."""
    root = _three_briefs(tmp_path / "project")
    partial = root / "templates" / "partials" / "bottom_line.html.j2"
    original = partial.read_text(encoding="utf-8")
    edits = {
        1: lambda: partial.write_text(original.replace("project override", "MIDEDIT"), encoding="utf-8"),
        2: lambda: partial.write_text(original, encoding="utf-8"),
    }
    assert _build_editing_between_briefs(root, edits) == [2]
    assert "MIDEDIT" in (root / "build" / "brief-b.html").read_text(encoding="utf-8")
    assert build(root) == {"brief-a": "skipped", "brief-b": "built", "brief-c": "built"}
    assert build(root, "--force", "--out", "fresh") == dict.fromkeys(("brief-a", "brief-b", "brief-c"), "built")
    assert _built_outputs(root, "build") == _built_outputs(root, "fresh")


def test_a_source_edited_during_a_build_is_built_again_once_restored(tmp_path: Path) -> None:
    root = _three_briefs(tmp_path / "project")
    source = root / "sources" / "brief-c.yaml"
    original = source.read_text(encoding="utf-8")
    edit = {1: lambda: source.write_text(original.replace("Brief c:", "MIDSRC:"), encoding="utf-8")}
    assert _build_editing_between_briefs(root, edit) == [1]
    assert "MIDSRC" in (root / "build" / "brief-c.html").read_text(encoding="utf-8")
    source.write_text(original, encoding="utf-8")
    assert build(root) == {"brief-a": "skipped", "brief-b": "skipped", "brief-c": "built"}
    assert "MIDSRC" not in (root / "build" / "brief-c.html").read_text(encoding="utf-8")
    assert manifest(root)["brief-c"]["summary"]["title"].startswith("Brief c:")
