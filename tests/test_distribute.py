"""Personalised copies: every recipient gets each brief in their edition, stamped on every page with who it
was prepared for and a copy id, bundled per recipient, the same bytes every time.

The copies are made once through the Python API (`load_recipients`, `distribute`) and read back with
pdftotext and pypdf; the command line must give the same bytes from a YAML list of the same recipients.
Bad recipient lists go through the command line and must write nothing.
"""

import csv
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from helpers import (
    SAMPLE_TEXT,
    as_a_foreground_job,
    as_memo,
    assert_no_traceback,
    child_env,
    column_of,
    line_of,
    make_project,
    pdf_pages_text,
    pdf_text,
    replace_once,
    run_briefgen,
)
from pypdf import PdfReader, PdfWriter

from briefgen.distribute import STAMPS_PER_SHEET, distribute
from briefgen.errors import BriefgenError
from briefgen.pipeline import Project
from briefgen.recipients import load_recipients

TITLE = "United on arms control, divided over itself: the CSTO after Astana"
JUDGMENT = "  - id: russia-stays-aloof\n"
SOURCES = {
    # a key judgment only the restricted edition shows
    "alpha.yaml": replace_once(SAMPLE_TEXT, JUDGMENT, JUDGMENT + "    audience: [restricted]\n"),
    "beta.yaml": replace_once(SAMPLE_TEXT, f'title: "{TITLE}"', f'title: "Beta: {TITLE}"'),
}
MEMOS = {name: as_memo(text) for name, text in SOURCES.items()}  # where what a run does to its folder is tested
BRIEFS = ["alpha", "beta"]
RESTRICTED_TEXT = "Semerikov in charge on an acting basis"  # from the restricted judgment's statement
RECIPIENTS = [
    {"name": "Анна Петрова", "organisation": "Институт мира", "email": "anna.petrova@example.org", "edition": ""},
    {
        "name": "John Smith",
        "organisation": "Foreign Office",
        "email": "john.smith@example.org",
        "edition": "restricted",
    },
    {"name": "Marie Dupont", "organisation": "OSCE", "email": "marie@example.org", "edition": "public"},
]
EDITIONS = {"anna.petrova@example.org": "public", "john.smith@example.org": "restricted", "marie@example.org": "public"}
HEADER = "name,organisation,email,edition"


def recipients_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER.split(","), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def recipients_yaml(rows: list[dict[str, str]]) -> str:
    lines = []
    for row in rows:
        lines.append(f"- name: {row['name']}")
        lines.append(f"  organisation: {row['organisation']}")
        lines.append(f"  email: {row['email']}")
        if row.get("edition"):
            lines.append(f"  edition: {row['edition']}")
    return "\n".join(lines) + "\n"


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


def make_copies(root: Path, out: str) -> Path:
    """Distribute every source to the CSV's recipients through the Python API; return the output folder."""
    project = Project.open(root)
    recipients = load_recipients(root / "r.csv", project)
    manifest = distribute(project.sources(), recipients, project, root / out, 1)
    assert manifest == root / out / "manifest.json"
    return root / out


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("distribute") / "project", SOURCES)
    (root / "r.csv").write_text(recipients_csv(RECIPIENTS), encoding="utf-8")
    (root / "r.yaml").write_text(recipients_yaml(RECIPIENTS), encoding="utf-8")
    return make_copies(root, "dist")


@pytest.fixture(scope="module")
def copies(dist: Path) -> list[dict]:
    return json.loads((dist / "manifest.json").read_text(encoding="utf-8"))["copies"]


def test_every_recipient_gets_a_copy_of_every_brief(dist: Path, copies: list[dict]) -> None:
    assert sorted((copy["brief"], copy["recipient"]["email"]) for copy in copies) == sorted(
        (brief, row["email"]) for brief in BRIEFS for row in RECIPIENTS
    )
    slugs = {}
    for copy in copies:
        match = re.fullmatch(r"([a-z0-9-]+)/([a-z0-9][a-z0-9-]*)\.pdf", copy["path"])
        assert match and match[1] == copy["brief"], copy["path"]
        slugs.setdefault(copy["recipient"]["email"], set()).add(match[2])
    assert all(len(found) == 1 for found in slugs.values()), f"a recipient's copies have different names: {slugs}"
    assert len({next(iter(found)) for found in slugs.values()}) == len(RECIPIENTS), slugs
    # names in other scripts are transliterated, not dropped
    assert slugs["anna.petrova@example.org"] == {"anna-petrova"}
    bundles = {f"bundles/{next(iter(found))}.zip" for found in slugs.values()}
    assert set(tree(dist)) == {copy["path"] for copy in copies} | bundles | {"manifest.json"}


def test_the_manifest_describes_each_copy(dist: Path, copies: list[dict]) -> None:
    by_email = {row["email"]: row for row in RECIPIENTS}
    for copy in copies:
        row = by_email[copy["recipient"]["email"]]
        assert copy["recipient"] == {key: row[key] for key in ("name", "organisation", "email")}
        assert copy["edition"] == EDITIONS[row["email"]]
        assert hashlib.sha256((dist / copy["path"]).read_bytes()).hexdigest() == copy["sha256"]
        assert re.fullmatch(r"[0-9A-Za-z]{6,}", copy["copy_id"]), copy["copy_id"]
    ids = [copy["copy_id"] for copy in copies]
    assert len(set(ids)) == len(ids), f"copy ids repeat: {ids}"


def test_a_copy_is_traced_to_its_recipient_from_the_file_or_its_id(dist: Path, copies: list[dict]) -> None:
    root = dist.parent
    for copy in copies:
        assert PdfReader(dist / copy["path"]).metadata["/BriefgenCopyId"] == copy["copy_id"]
        recipient = copy["recipient"]
        record = (
            f"copy {copy['copy_id']} of {copy['brief']} ({copy['edition']} edition), prepared for "
            f"{recipient['name']}, {recipient['organisation']} <{recipient['email']}>"
        )
        by_file = run_briefgen("trace", "--manifest", "dist/manifest.json", f"dist/{copy['path']}", cwd=root)
        assert by_file.returncode == 0, by_file.stderr
        assert by_file.stdout == f"dist/{copy['path']}: {record}; the file is the copy as sent\n"
        by_id = run_briefgen("trace", "--id", copy["copy_id"].lower(), cwd=root)  # dist/manifest.json by default
        assert by_id.returncode == 0, by_id.stderr
        assert by_id.stdout == f"{record}\n"


def test_tracing_tells_a_changed_copy_and_reports_every_file_it_cannot_trace(
    dist: Path, copies: list[dict], tmp_path: Path
) -> None:
    changed = tmp_path / "changed.pdf"
    changed.write_bytes((dist / copies[0]["path"]).read_bytes() + b"\n% edited\n")
    writer = PdfWriter(clone_from=dist / copies[0]["path"])
    writer.metadata = None
    stripped = tmp_path / "stripped.pdf"
    writer.write(stripped)
    (tmp_path / "notes.txt").write_text("not a PDF", encoding="utf-8")
    manifest = dist / "manifest.json"
    proc = run_briefgen("trace", "--manifest", manifest, "changed.pdf", "stripped.pdf", "notes.txt", cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"changed.pdf: copy {copies[0]['copy_id']} of ")
    assert proc.stdout.endswith("; the file was changed after it was sent\n")
    assert proc.stderr.splitlines() == [
        "stripped.pdf: error: no briefgen copy id in this PDF's metadata; give the id printed on its pages with --id",
        "notes.txt: error: not a PDF that can be read",
    ]
    unknown = run_briefgen("trace", "--manifest", manifest, "--id", "0123456789AB", cwd=tmp_path)
    assert unknown.returncode == 1
    assert "0123456789AB: error: copy id 0123456789AB is not in " in unknown.stderr


def test_trace_finds_the_manifest_of_the_distribution_a_copy_lies_in(
    dist: Path, copies: list[dict], tmp_path: Path
) -> None:
    """Without --manifest and without dist/manifest.json, a copy is traced in the manifest of the distribution
    folder it lies in; a copy lying elsewhere gets an error that says where trace looked."""
    brief, name = copies[0]["path"].split("/")
    for cwd, pdf in [(dist, f"{brief}/{name}"), (dist / brief, name)]:
        proc = run_briefgen("trace", pdf, cwd=cwd)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == f"{pdf}: copy {copies[0]['copy_id']} of {brief} (" + proc.stdout.split(" (", 1)[1]
        assert proc.stdout.endswith("; the file is the copy as sent\n")
    (tmp_path / "leaked.pdf").write_bytes((dist / brief / name).read_bytes())
    proc = run_briefgen("trace", "leaked.pdf", cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "leaked.pdf: error: no dist/manifest.json here, and no distribution's manifest.json in this copy's folder"
        " or the one above; give the distribution's with --manifest"
    ]


def test_every_page_names_the_recipient_and_the_copy(dist: Path, copies: list[dict]) -> None:
    for copy in copies:
        recipient = copy["recipient"]
        stamp = f"Prepared for {recipient['name']}, {recipient['organisation']}"
        pages = pdf_pages_text(dist / copy["path"])
        assert len(pages) == len(PdfReader(dist / copy["path"]).pages) >= 2
        unstamped = [n for n, page in enumerate(pages, 1) if stamp not in page or copy["copy_id"] not in page]
        assert unstamped == [], f"{copy['path']}: pages {unstamped} lack {stamp!r} or {copy['copy_id']}"
        others = [other["copy_id"] for other in copies if other["copy_id"] != copy["copy_id"]]
        assert not any(other in " ".join(pages) for other in others)


def font_descriptor(font) -> dict:
    font = font.get_object()
    if "/DescendantFonts" in font:
        return font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    return font["/FontDescriptor"].get_object()


def page_fonts(resources, seen: set[int] | None = None) -> list:
    """Every font a page's resources reach, through Form XObjects (the stamp is one) too."""
    seen = set() if seen is None else seen
    resources = resources.get_object() if resources is not None else {}
    fonts = [font.get_object() for font in resources.get("/Font", {}).values()]
    for xobject in resources.get("/XObject", {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form" and id(xobject) not in seen:
            seen.add(id(xobject))
            fonts.extend(page_fonts(xobject.get("/Resources"), seen))
    return fonts


def test_the_stamp_font_is_embedded(dist: Path, copies: list[dict]) -> None:
    for copy in copies:
        pages = PdfReader(dist / copy["path"]).pages
        stamp_fonts = []

        def visit(text, cm, tm, font, size, copy_id=copy["copy_id"], found=stamp_fonts) -> None:
            if copy_id in text:
                found.append(font)

        pages[0].extract_text(visitor_text=visit)
        assert stamp_fonts and None not in stamp_fonts, f"{copy['path']}: no text run in a font holds the copy id"
        for font in stamp_fonts:
            assert {"/FontFile2", "/FontFile3"} & set(font_descriptor(font)), (
                f"{copy['path']}: the stamp's font {font.get('/BaseFont')} is not embedded"
            )
        for number, page in enumerate(pages, 1):
            fonts = page_fonts(page.get("/Resources"))
            assert fonts, f"{copy['path']} page {number}: no fonts"
            for font in fonts:
                assert {"/FontFile2", "/FontFile3"} & set(font_descriptor(font)), (
                    f"{copy['path']} page {number}: font {font.get('/BaseFont')} is not embedded"
                )


def test_the_stamp_is_an_artifact_of_a_copy_that_stays_tagged(dist: Path, copies: list[dict]) -> None:
    """Screen readers follow the brief's structure and skip the stamp, which is marked as an artifact."""
    for copy in copies:
        reader = PdfReader(dist / copy["path"])
        assert "/StructTreeRoot" in reader.trailer["/Root"], f"{copy['path']} lost the brief's structure"
        for number, page in enumerate(reader.pages, 1):
            content = page.get_contents().get_data()
            draws = re.findall(rb"/BriefgenStamp Do", content)
            marked = re.findall(rb"/Artifact BMC\s+q\s+[^Q]*?/BriefgenStamp Do\s+(?:Q\s+)+EMC", content)
            assert len(draws) == len(marked) == 1, f"{copy['path']} page {number}: stamp not drawn as one artifact"


def test_bundles_hold_each_recipients_copies(dist: Path, copies: list[dict]) -> None:
    by_slug: dict[str, dict[str, str]] = {}
    for copy in copies:
        slug = Path(copy["path"]).stem
        by_slug.setdefault(slug, {})[f"{copy['brief']}.pdf"] = copy["path"]
    for slug, members in by_slug.items():
        with zipfile.ZipFile(dist / "bundles" / f"{slug}.zip") as bundle:
            assert bundle.testzip() is None
            assert sorted(bundle.namelist()) == sorted(members)
            for name, path in members.items():
                assert bundle.read(name) == (dist / path).read_bytes(), f"{slug}.zip:{name} differs from {path}"


def test_only_restricted_recipients_see_restricted_content(dist: Path, copies: list[dict]) -> None:
    for copy in copies:
        if copy["brief"] != "alpha":
            continue
        text = pdf_text(dist / copy["path"])
        assert "Armenia will veto any renewed proposal" in text
        if copy["edition"] == "restricted":
            assert RESTRICTED_TEXT in text, copy["path"]
        else:
            assert RESTRICTED_TEXT not in text, copy["path"]


def same_copies(first: Path, second: Path) -> None:
    """Two distributions hold the same files, byte for byte, the copies named first when they differ."""
    one, two = tree(first), tree(second)
    assert set(two) == set(one)
    differing = sorted(name for name in one if one[name] != two[name])
    assert differing == [], f"files that differ between {first.name}/ and {second.name}/: {differing}"


def test_distributing_again_gives_the_same_bytes(dist: Path) -> None:
    same_copies(dist, make_copies(dist.parent, "dist-again"))


def test_a_copy_does_not_depend_on_who_else_gets_one(dist: Path, copies: list[dict]) -> None:
    """The stamp font holds a fixed repertoire, not the letters of every recipient's name: Marie's copies
    are the same bytes whether or not Анна (Cyrillic) and John ("Office", a ligature) get copies too."""
    root = dist.parent
    (root / "marie.csv").write_text(recipients_csv(RECIPIENTS[2:]), encoding="utf-8")
    project = Project.open(root)
    distribute(project.sources(), load_recipients(root / "marie.csv", project), project, root / "dist-marie", 1)
    alone = json.loads((root / "dist-marie" / "manifest.json").read_text(encoding="utf-8"))["copies"]
    together = [copy for copy in copies if copy["recipient"]["email"] == "marie@example.org"]
    assert len(alone) == len(together) == len(BRIEFS)
    for mine, same in zip(alone, together, strict=True):
        assert (mine["copy_id"], mine["sha256"]) == (same["copy_id"], same["sha256"]), mine["path"]


def test_a_name_outside_the_stamp_fonts_letters_leaves_the_other_copies_alone(tmp_path: Path) -> None:
    """Letters the stamp font lacks (Arabic, Chinese) come from another font, on a sheet of their own: the
    other copies do not change, so they carry none of those letters."""
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    project = Project.open(root)
    others = [{"name": "سارة خان 李雷", "organisation": "Institute", "email": "sara@example.org"}]

    def marie_copy(rows: list[dict[str, str]], name: str) -> bytes:
        (root / f"{name}.csv").write_text(recipients_csv(rows), encoding="utf-8")
        distribute(project.sources(), load_recipients(root / f"{name}.csv", project), project, root / name, 1)
        return (root / name / "alpha" / "marie-dupont.pdf").read_bytes()

    alone = marie_copy(RECIPIENTS[2:], "alone")
    assert marie_copy(others + RECIPIENTS[2:], "together") == alone


def test_stamps_printed_on_different_sheets_give_the_same_copies(tmp_path: Path) -> None:
    """Stamps are printed STAMPS_PER_SHEET to a sheet: the first and last of more recipients than one sheet
    holds get the same bytes as when each is the only recipient (of the memo: which sheet a stamp is on does
    not depend on the pages it is laid over)."""
    root = make_project(tmp_path / "project", {"alpha.yaml": MEMOS["alpha.yaml"]})
    many = [{"name": f"Reader {n}", "organisation": "Institute", "email": f"r{n}@example.org"} for n in range(201)]
    assert len(many) > STAMPS_PER_SHEET
    project = Project.open(root)

    def copies_for(rows: list[dict[str, str]], name: str) -> dict[str, str]:
        (root / f"{name}.csv").write_text(recipients_csv(rows), encoding="utf-8")
        distribute(project.sources(), load_recipients(root / f"{name}.csv", project), project, root / name, 1)
        listed = json.loads((root / name / "manifest.json").read_text(encoding="utf-8"))["copies"]
        return {copy["recipient"]["email"]: copy["sha256"] for copy in listed}

    together = copies_for(many, "all")
    assert len(set(together.values())) == len(many)
    for row in (many[0], many[-1]):
        assert copies_for([row], row["email"].split("@")[0]) == {row["email"]: together[row["email"]]}


def test_a_dask_cluster_gives_the_same_copies(tmp_path: Path, dask_scheduler: str) -> None:
    """Briefs rendered and copies stamped on a Dask cluster, with more copies than one sheet of stamps
    holds: the same files as one local process makes (of the memo, a page a copy: what is tested is where
    the work runs)."""
    root = make_project(tmp_path / "project", {"alpha.yaml": MEMOS["alpha.yaml"]})
    many = [{"name": f"Reader {n}", "organisation": "Institute", "email": f"r{n}@example.org"} for n in range(201)]
    (root / "r.csv").write_text(recipients_csv(many), encoding="utf-8")
    on_dask = run_briefgen(
        "distribute", "--recipients", "r.csv", "--scheduler", dask_scheduler, "--out", "dask", cwd=root
    )
    assert_no_traceback(on_dask)
    assert on_dask.returncode == 0, on_dask.stderr
    here = run_briefgen("distribute", "--recipients", "r.csv", "--jobs", "1", "--out", "here", cwd=root)
    assert here.returncode == 0, here.stderr
    same_copies(root / "here", root / "dask")


def test_the_command_line_with_yaml_recipients_gives_the_same_copies(dist: Path) -> None:
    """The same recipients as a YAML list, in a fresh process: the same files as through the API."""
    root = dist.parent
    proc = run_briefgen("distribute", "--recipients", "r.yaml", "--out", "dist-cli", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    same_copies(dist, root / "dist-cli")


# ---------------------------------------------------------------------------
# bad recipient lists: every problem at its row (CSV) or line and column (YAML), nothing written

GOOD = RECIPIENTS[:2]


def refused(root: Path, name: str, content: str) -> subprocess.CompletedProcess[str]:
    (root / name).write_text(content, encoding="utf-8")
    proc = run_briefgen("distribute", "--recipients", name, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert not (root / "dist").exists(), "a refused recipient list still wrote dist/"
    return proc


def errors(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if ": error: " in line]


def bad_row(**changes: str) -> dict[str, str]:
    return {
        "name": "Bob Jones",
        "organisation": "Example Institute",
        "email": "bob@example.org",
        "edition": "",
    } | changes


CSV_CASES = {
    # name: (rows after the header, the line of the error, words the message must have)
    "missing-email": ([*GOOD, bad_row(email="")], 4, ["email", "missing"]),
    "bad-email": ([*GOOD, bad_row(email="bob-at-example.org")], 4, ["email", "not an email address"]),
    "unknown-edition": ([*GOOD, bad_row(edition="secret")], 4, ["'secret'"]),
    "duplicate-email": ([*GOOD, bad_row(email="JOHN.SMITH@example.org")], 4, ["JOHN.SMITH@example.org"]),
    "edition-in-capitals": (
        [*GOOD, bad_row(email="carol@example.org", edition="Public")],
        4,
        ["'Public'", "did you mean 'public'?"],
    ),
}


@pytest.mark.parametrize("case", CSV_CASES)
def test_a_bad_csv_row_is_reported_at_its_row(tmp_path: Path, case: str) -> None:
    rows, row, words = CSV_CASES[case]
    root = make_project(tmp_path / "project", SOURCES)
    proc = refused(root, "r.csv", recipients_csv(rows))
    found = errors(proc)
    assert len(found) == 1, proc.stderr
    assert found[0].startswith(f"r.csv:{row}: error: "), proc.stderr
    for word in words:
        assert word in found[0], f"{found[0]!r} lacks {word!r}"


def test_a_csv_without_a_required_column_is_reported_at_the_header(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", SOURCES)
    content = "name,organisation,edition\nJohn Smith,Foreign Office,restricted\n"
    found = errors(refused(root, "r.csv", content))
    assert len(found) == 1
    assert found[0].startswith("r.csv:1: error: ") and "email" in found[0], found


HEADER_CASES = {
    # name: (the header row, the one error expected at line 1)
    "misspelt": ("name,organisation,emial", "unknown column 'emial'; did you mean 'email'?"),
    "unknown": (
        "name,organisation,email,phone",
        "unknown column 'phone'; the columns are: name, organisation, email, edition",
    ),
    "repeated": ("name,name,organisation,email", "column 'name' appears twice (columns 1 and 2)"),
    "repeated-as-alias": (
        "name,organisation,email,Organization",
        "column 'organisation' appears twice (columns 2 and 4)",
    ),
}


@pytest.mark.parametrize("case", HEADER_CASES)
def test_an_unknown_csv_column_is_reported_once_at_the_header(tmp_path: Path, case: str) -> None:
    header, expected = HEADER_CASES[case]
    root = make_project(tmp_path / "project", SOURCES)
    rows = "".join(f"Reader {n},Institute,reader{n}@example.org,x\n" for n in range(3))  # every row fills it
    assert errors(refused(root, "r.csv", f"{header}\n{rows}")) == [f"r.csv:1: error: {expected}"]


def test_a_spreadsheets_csv_export_is_read_as_written(tmp_path: Path) -> None:
    """Semicolons or tabs between fields, headings in any case, 'Organization' and 'E-mail', a trailing
    empty column: the same recipients as the plain CSV."""
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    plain = recipients_csv(RECIPIENTS)
    exports = {
        "semicolons.csv": plain.replace(",", ";").replace(
            "name;organisation;email;edition", "Name;Organization;E-mail;Edition"
        ),
        "tabs.tsv": plain.replace(",", "\t").replace("email", " EMAIL "),
        "trailing.csv": "".join(f"{line},\r\n" for line in plain.splitlines()),
    }
    expected = load_recipients(write_file(root / "plain.csv", plain), Project.open(root))
    for name, text in exports.items():
        assert load_recipients(write_file(root / name, text), Project.open(root)) == expected, name


QUOTED_ROWS = [
    # (the fields as a spreadsheet writes them, RFC 4180: a quote inside a quoted field is doubled; as read)
    ('"Smith ""Jack"" Jones",Org', ('Smith "Jack" Jones', "Org")),
    ('"Seán ""Jack""",Org', ('Seán "Jack"', "Org")),
    ('"""Jack"" Smith",Org', ('"Jack" Smith', "Org")),
    ('Ada Lovelace,"Policy Unit, Foreign Office"', ("Ada Lovelace", "Policy Unit, Foreign Office")),
    ('"O\'Brien, ""Bob""","Say ""hi"", then go"', ('O\'Brien, "Bob"', 'Say "hi", then go')),
]


def quoted_csv(delimiter: str) -> str:
    """QUOTED_ROWS as a CSV with this delimiter; a comma inside a quoted field becomes the delimiter too."""
    lines = ["name,organisation,email"]
    lines += [f"{fields},r{number}@example.org" for number, (fields, _) in enumerate(QUOTED_ROWS)]
    return "".join(line.replace(",", delimiter) + "\r\n" for line in lines)


def test_quotes_in_a_csv_are_read_as_spreadsheets_write_them(tmp_path: Path) -> None:
    """A doubled quote inside a quoted field is one quote, wherever it is, on the stamp and in the manifest."""
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    write_file(root / "r.csv", quoted_csv(","))
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--jobs", "1", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    copies = json.loads((root / "dist" / "manifest.json").read_text(encoding="utf-8"))["copies"]
    read = [(copy["recipient"]["name"], copy["recipient"]["organisation"]) for copy in copies]
    assert read == [expected for _, expected in QUOTED_ROWS]
    for copy in copies:
        stamp = f"Prepared for {copy['recipient']['name']}, {copy['recipient']['organisation']} · Copy"
        assert stamp in pdf_pages_text(root / "dist" / copy["path"])[0], copy["path"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["commas", "semicolons", "tabs"])
def test_quoted_fields_are_read_whatever_the_delimiter(tmp_path: Path, delimiter: str) -> None:
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    recipients = load_recipients(write_file(root / "r.csv", quoted_csv(delimiter)), Project.open(root))
    expected = [tuple(field.replace(",", delimiter) for field in fields) for _, fields in QUOTED_ROWS]
    assert [(recipient.name, recipient.organisation) for recipient in recipients] == expected


def write_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_every_bad_csv_row_is_reported_at_once(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", SOURCES)
    rows = [*GOOD] + [rows[-1] for rows, _, _ in CSV_CASES.values()]  # the bad rows, from line 4 on
    proc = refused(root, "r.csv", recipients_csv(rows))
    places = [line.split(": error: ")[0] for line in errors(proc)]
    assert places == [f"r.csv:{line}" for line in range(4, 4 + len(CSV_CASES))], proc.stderr


def test_every_problem_of_a_row_is_reported(tmp_path: Path) -> None:
    """A row with a missing organisation, a misspelt edition and an address listed before gets all three,
    and the edition a did-you-mean, in a CSV as in YAML."""
    root = make_project(tmp_path / "project", SOURCES)
    bad = bad_row(organisation="", email="john.smith@example.org", edition="restriced")
    assert errors(refused(root, "r.csv", recipients_csv([*GOOD, bad]))) == [
        "r.csv:4: error: organisation: missing",
        "r.csv:4: error: edition: unknown edition 'restriced'; did you mean 'restricted'?",
        "r.csv:4: error: john.smith@example.org is listed twice (first on line 3)",
    ]
    text = recipients_yaml([*GOOD, bad_row(edition="restriced")])
    line = line_of(text, "  edition: restriced")
    found = errors(refused(root, "r.yaml", text))
    assert found == [f"r.yaml:{line}:12: error: unknown edition 'restriced'; did you mean 'restricted'?"]


def yaml_case(bad: dict[str, str], needle: str) -> tuple[str, int, int]:
    """A YAML list of the good recipients and a bad one; the line and column of `needle` in the bad one."""
    text = recipients_yaml([*GOOD, bad])
    start = line_of(text, f"- name: {bad['name']}")
    line = line_of(text, needle, start)
    return text, line, column_of(text, line, needle)


YAML_CASES = {
    "bad-email": (bad_row(email="bob-at-example.org"), "bob-at-example.org"),
    "unknown-edition": (bad_row(edition="secret"), "secret"),
    "duplicate-email": (bad_row(email="JOHN.SMITH@example.org"), "JOHN.SMITH@example.org"),
}


@pytest.mark.parametrize("case", YAML_CASES)
def test_a_bad_yaml_recipient_is_reported_at_its_line_and_column(tmp_path: Path, case: str) -> None:
    text, line, column = yaml_case(*YAML_CASES[case])
    root = make_project(tmp_path / "project", SOURCES)
    found = errors(refused(root, "r.yaml", text))
    assert len(found) == 1, found
    assert found[0].startswith(f"r.yaml:{line}:{column}: error: "), found


def test_a_bad_yaml_email_is_called_so(tmp_path: Path) -> None:
    text, _, _ = yaml_case(*YAML_CASES["bad-email"])
    root = make_project(tmp_path / "project", SOURCES)
    [found] = errors(refused(root, "r.yaml", text))
    assert "not an email address" in found, f"the CSV says 'not an email address'; the YAML says: {found}"


def test_a_yaml_recipient_without_an_email_is_located(tmp_path: Path) -> None:
    text = recipients_yaml(GOOD) + "- name: Bob Jones\n  organisation: Example Institute\n"
    line = line_of(text, "- name: Bob Jones")
    root = make_project(tmp_path / "project", SOURCES)
    found = errors(refused(root, "r.yaml", text))
    assert len(found) == 1, found
    assert re.match(rf"r\.yaml:{line}:\d+: error: .*'email'", found[0]), found


def test_a_brief_longer_than_its_theme_allows_is_warned_about_once(tmp_path: Path) -> None:
    """Warnings of the briefs rendered reach the command line, once though two editions raise them."""
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    (root / "templates" / "themes" / "house").mkdir(parents=True)
    (root / "templates" / "themes" / "house" / "theme.yaml").write_text(
        "description: Two pages at most\nextends: brief\npages: 2\n", encoding="utf-8"
    )
    (root / "briefgen.yaml").write_text("theme: house\n", encoding="utf-8")
    (root / "r.csv").write_text(recipients_csv(RECIPIENTS[:2]), encoding="utf-8")  # public and restricted
    proc = run_briefgen("distribute", "--recipients", "r.csv", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if ": warning: " in line]
    assert len(warnings) == 1, proc.stderr
    assert warnings[0].startswith("sources/alpha.yaml: warning: the PDF runs to ")
    assert "over the 2 pages the theme 'house' is meant for" in warnings[0]
    assert len(pdf_pages_text(root / "dist" / "alpha" / "john-smith.pdf")) > 2


def font_with(path: Path, family: str, characters: str) -> Path:
    """A TrueType font with a square glyph for each of the characters and nothing else."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    glyphs = {character: f"uni{ord(character):04X}" for character in characters}
    pen = TTGlyphPen(None)
    for point in ((100, 0), (100, 700), (600, 700), (600, 0)):
        (pen.lineTo if pen.points else pen.moveTo)(point)
    pen.closePath()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", *glyphs.values()])
    builder.setupCharacterMap({ord(character): name for character, name in glyphs.items()})
    builder.setupGlyf({name: pen.glyph() for name in [".notdef", *glyphs.values()]})
    builder.setupHorizontalMetrics({name: (800, 100) for name in [".notdef", *glyphs.values()]})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    path.parent.mkdir(parents=True, exist_ok=True)
    builder.save(str(path))
    return path


def only_these_fonts_installed(folder: Path) -> dict[str, str]:
    """The environment of a briefgen whose fontconfig knows only the fonts in folder."""
    config = folder.parent / "fonts.conf"
    config.write_text(
        f"<?xml version='1.0'?>\n<fontconfig><dir>{folder}</dir><cachedir>{folder.parent / 'cache'}</cachedir>"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return child_env(FONTCONFIG_FILE=str(config))


def test_letters_no_font_has_are_warned_about_at_their_row(tmp_path: Path) -> None:
    """A letter neither the stamp font nor an installed font has prints as a box: each such name or
    organisation gets one warning, at its first row, naming the others. A letter an installed font has is
    drawn in it, without one."""
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    font_with(tmp_path / "fonts" / "han.ttf", "Only Li", "李")
    rows = [
        {"name": "Dmitri 李雷", "organisation": "Org D", "email": "d@example.org"},
        {"name": "Zoë Smith", "organisation": "Rocket 🚀 Inc", "email": "zoe@example.org"},
        {"name": "Анна Петрова", "organisation": "Li 李", "email": "anna@example.org"},
        {"name": "Dmitri 李雷", "organisation": "Rocket 🚀 Inc", "email": "d2@example.org"},
        {"name": "Zed Smith", "organisation": "Rocket 🚀 Inc", "email": "zed@example.org"},
    ]
    (root / "r.csv").write_text(recipients_csv(rows), encoding="utf-8")
    env = only_these_fonts_installed(tmp_path / "fonts")
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--jobs", "1", cwd=root, env=env)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        "r.csv:2: warning: name 'Dmitri 李雷': the stamp font has no letters for '雷', and no installed font does"
        " either; they will print as empty boxes (installing a font that has them draws them) (also row 5)",
        "r.csv:3: warning: organisation 'Rocket 🚀 Inc': the stamp font has no letters for '🚀', and no installed"
        " font does either; they will print as empty boxes (installing a font that has them draws them)"
        " (also rows 5, 6)",
    ]
    # the printer agrees: 李, which the check found in the installed font, is drawn in that font
    first_page = PdfReader(root / "dist" / "alpha" / "anna-petrova.pdf").pages[0]
    fonts = [str(font.get("/BaseFont")) for font in page_fonts(first_page.get("/Resources"))]
    assert any(name.endswith("Only-Li") for name in fonts), fonts


def test_a_yaml_recipients_letters_no_font_has_are_warned_about_at_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    text = recipients_yaml([*GOOD, bad_row(name="Dmitri 李雷")])
    line = line_of(text, "- name: Dmitri")
    monkeypatch.setenv("FONTCONFIG_FILE", only_these_fonts_installed(tmp_path / "fonts")["FONTCONFIG_FILE"])
    font_with(tmp_path / "fonts" / "han.ttf", "Only Li", "李")
    warnings: list[str] = []
    load_recipients(write_file(root / "r.yaml", text), Project.open(root), lambda found: warnings.append(str(found)))
    assert [warning.split(": warning: ")[0] for warning in warnings] == [f"{root / 'r.yaml'}:{line}:9"], warnings
    assert "letters for '雷'" in warnings[0], warnings


def test_a_warning_many_rows_share_names_the_first_few(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    rows = [{"name": f"Reader {n}", "organisation": "Rocket 🚀 Inc", "email": f"r{n}@example.org"} for n in range(14)]
    monkeypatch.setenv("FONTCONFIG_FILE", only_these_fonts_installed(tmp_path / "fonts")["FONTCONFIG_FILE"])
    warnings: list[str] = []
    on_warning = lambda found: warnings.append(str(found))  # noqa: E731
    load_recipients(write_file(root / "r.csv", recipients_csv(rows)), Project.open(root), on_warning)
    assert [warning.split(": warning: ")[0] for warning in warnings] == [f"{root / 'r.csv'}:2"]
    assert warnings[0].endswith("(also rows 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, and 3 more)")


def test_two_sources_with_one_brief_id_are_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    (root / "drafts").mkdir()
    (root / "drafts" / "alpha.yaml").write_text(SOURCES["beta.yaml"], encoding="utf-8")
    (root / "r.csv").write_text(recipients_csv(RECIPIENTS[:1]), encoding="utf-8")
    proc = run_briefgen("distribute", "--recipients", "r.csv", "sources/alpha.yaml", "drafts/alpha.yaml", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "drafts/alpha.yaml: error: the same brief id, 'alpha', as sources/alpha.yaml" in proc.stderr
    assert not (root / "dist").exists()


def test_a_missing_recipients_file_is_called_so(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", SOURCES)
    proc = run_briefgen("distribute", "--recipients", "nosuch.csv", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["nosuch.csv: error: no such recipients file"]
    assert not (root / "dist").exists()


def test_a_brief_id_given_for_its_source_gets_a_hint(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", SOURCES)
    (root / "r.csv").write_text(recipients_csv(RECIPIENTS), encoding="utf-8")
    proc = run_briefgen("distribute", "alpha", "--recipients", "r.csv", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["alpha: error: no such source file; did you mean sources/alpha.yaml?"]
    assert not (root / "dist").exists()
    usage = run_briefgen("distribute", "--help", cwd=root).stdout
    assert "[PATH ...]" in usage and "BRIEF" not in usage, usage


@pytest.mark.parametrize(
    ("out", "where"),
    [(".", "the project folder"), ("sources", "the project's sources"), ("templates/x", "the project's templates")],
)
def test_the_project_folder_is_no_output_folder(tmp_path: Path, out: str, where: str) -> None:
    """The next distribution deletes PDFs no manifest lists from its output folder: not the project's."""
    root = make_project(tmp_path / "project", SOURCES)
    (root / "r.csv").write_text(recipients_csv(RECIPIENTS), encoding="utf-8")
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--out", out, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"briefgen: error: --out: {out} is {where}; give distribute a folder of its own, such as dist"
    ]
    assert sorted(path.name for path in root.iterdir()) == ["r.csv", "sources"]


def test_a_build_folder_is_no_output_folder(tmp_path: Path) -> None:
    """Distributing into a build's folder would replace its manifest, and the copies could not be traced."""
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    (root / "r.csv").write_text(recipients_csv(RECIPIENTS), encoding="utf-8")
    assert run_briefgen("build", "--format", "html", cwd=root).returncode == 0
    built = tree(root / "build")
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--out", "build", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "briefgen: error: --out: build holds a build's manifest.json, not a distribution's;"
        " give distribute a folder of its own, such as dist"
    ]
    assert tree(root / "build") == built


def test_an_unknown_theme_is_reported_once(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", SOURCES)
    (root / "r.csv").write_text(recipients_csv(RECIPIENTS), encoding="utf-8")
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--theme", "nosuch", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["briefgen: error: --theme: no theme named 'nosuch'; themes: brief, memo"]


def test_a_broken_theme_is_reported_once_for_every_brief_and_edition(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", SOURCES)
    (root / "templates" / "themes" / "a").mkdir(parents=True)
    (root / "templates" / "themes" / "a" / "theme.yaml").write_text("description: A\nextends: b\n", encoding="utf-8")
    (root / "r.csv").write_text(recipients_csv(RECIPIENTS), encoding="utf-8")
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--theme", "a", "--jobs", "1", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "templates/themes/a/theme.yaml:2:1: error: theme 'a' extends unknown theme 'b'; themes: a, brief, memo"
    ]


def test_a_recipient_taken_off_the_list_loses_their_copies(tmp_path: Path) -> None:
    """Distributing again into the same folder removes the copies and bundle of anyone no longer listed,
    and nothing briefgen did not write there."""
    root = make_project(tmp_path / "project", {"alpha.yaml": MEMOS["alpha.yaml"]})
    (root / "both.csv").write_text(recipients_csv(RECIPIENTS[1:]), encoding="utf-8")  # John and Marie
    (root / "marie.csv").write_text(recipients_csv(RECIPIENTS[2:]), encoding="utf-8")
    assert run_briefgen("distribute", "--recipients", "both.csv", "--jobs", "1", cwd=root).returncode == 0
    assert (root / "dist" / "alpha" / "john-smith.pdf").is_file()
    (root / "dist" / "notes.txt").write_text("ours", encoding="utf-8")
    proc = run_briefgen("distribute", "--recipients", "marie.csv", "--jobs", "1", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "removed 1 copy and 1 bundle of recipients no longer on the list" in proc.stdout.splitlines()
    assert sorted(tree(root / "dist")) == [
        "alpha/marie-dupont.pdf",
        "bundles/marie-dupont.zip",
        "manifest.json",
        "notes.txt",
    ]


def test_a_brief_taken_out_of_a_distribution_loses_its_copies(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", MEMOS)
    (root / "marie.csv").write_text(recipients_csv(RECIPIENTS[2:]), encoding="utf-8")
    assert run_briefgen("distribute", "--recipients", "marie.csv", "--jobs", "1", cwd=root).returncode == 0
    proc = run_briefgen("distribute", "sources/alpha.yaml", "--recipients", "marie.csv", "--jobs", "1", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "removed 1 copy of briefs no longer distributed" in proc.stdout.splitlines()
    assert not (root / "dist" / "beta").exists() or not any((root / "dist" / "beta").iterdir())
    (gone,) = [row["copy_id"] for row in json.loads((root / "dist" / "manifest.json").read_bytes())["earlier"]]
    traced = run_briefgen("trace", "--id", gone, cwd=root)
    assert traced.returncode == 0, traced.stderr
    assert traced.stdout == (
        f"copy {gone} of beta (public edition), prepared for Marie Dupont, OSCE <marie@example.org>; an earlier"
        " copy, since withdrawn: the distribution no longer sends beta to this recipient\n"
    )


def trace_line(root: Path, *args: str) -> str:
    proc = run_briefgen("trace", "--manifest", "dist/manifest.json", *args, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.rstrip("\n")


def test_copies_sent_earlier_stay_traceable_when_the_distribution_changes(tmp_path: Path) -> None:
    """Distributing again keeps every copy id issued into the folder: a recipient taken off the list, one
    moved to another edition, one renamed (the same id, a new stamp) and an edited brief leave the copies
    already sent traceable, each said to be an earlier copy; the same distribution again adds nothing."""
    root = make_project(tmp_path / "project", {"alpha.yaml": MEMOS["alpha.yaml"]})
    anna, john, marie = RECIPIENTS
    write_file(root / "first.csv", recipients_csv(RECIPIENTS))
    write_file(
        root / "next.csv", recipients_csv([john | {"name": "Jonathan Smith"}, marie | {"edition": "restricted"}])
    )
    assert run_briefgen("distribute", "--recipients", "first.csv", "--jobs", "1", cwd=root).returncode == 0
    sent = root / "sent"
    (sent / "alpha").mkdir(parents=True)
    for copy in (root / "dist" / "alpha").iterdir():
        (sent / "alpha" / copy.name).write_bytes(copy.read_bytes())
    first = {row["recipient"]["email"]: row["copy_id"] for row in listed_copies(root / "dist")}
    assert run_briefgen("distribute", "--recipients", "next.csv", "--jobs", "1", cwd=root).returncode == 0
    now = {row["recipient"]["email"]: row["copy_id"] for row in listed_copies(root / "dist")}
    assert now[john["email"]] == first[john["email"]] and now[marie["email"]] != first[marie["email"]]

    assert trace_line(root, "sent/alpha/anna-petrova.pdf") == (
        f"sent/alpha/anna-petrova.pdf: copy {first[anna['email']]} of alpha (public edition), prepared for "
        "Анна Петрова, Институт мира <anna.petrova@example.org>; the file is an earlier copy as sent, since "
        "withdrawn: the distribution no longer sends alpha to this recipient"
    )
    assert trace_line(root, "sent/alpha/john-smith.pdf") == (
        f"sent/alpha/john-smith.pdf: copy {first[john['email']]} of alpha (restricted edition), prepared for "
        "John Smith, Foreign Office <john.smith@example.org>; the file is an earlier copy as sent, since "
        "superseded by a copy with the same id, stamped for Jonathan Smith, Foreign Office"
    )
    assert trace_line(root, "sent/alpha/marie-dupont.pdf") == (
        f"sent/alpha/marie-dupont.pdf: copy {first[marie['email']]} of alpha (public edition), prepared for "
        "Marie Dupont, OSCE <marie@example.org>; the file is an earlier copy as sent, since superseded by copy "
        f"{now[marie['email']]}"
    )
    assert trace_line(root, "--id", first[john["email"]]) == (
        f"copy {first[john['email']]} of alpha (restricted edition), prepared for Jonathan Smith, Foreign Office "
        "<john.smith@example.org>; the same id was on an earlier copy stamped for John Smith, Foreign Office"
    )
    assert trace_line(root, "dist/alpha/jonathan-smith.pdf").endswith(
        "; the file is the copy as sent; the same id was on an earlier copy stamped for John Smith, Foreign Office"
    )

    edited = sent / "alpha" / "anna-petrova.pdf"
    edited.write_bytes(edited.read_bytes() + b"\n% edited\n")
    assert trace_line(root, "sent/alpha/anna-petrova.pdf").endswith(
        "; an earlier copy, since withdrawn: the distribution no longer sends alpha to this recipient;"
        " the file was changed after it was sent"
    )

    manifest = (root / "dist" / "manifest.json").read_bytes()
    earlier = json.loads(manifest)["earlier"]
    assert [(row["recipient"]["name"], row["status"], row.get("superseded_by")) for row in earlier] == [
        ("Анна Петрова", "withdrawn", None),
        ("John Smith", "superseded", now[john["email"]]),
        ("Marie Dupont", "superseded", now[marie["email"]]),
    ]
    assert run_briefgen("distribute", "--recipients", "next.csv", "--jobs", "1", cwd=root).returncode == 0
    assert (root / "dist" / "manifest.json").read_bytes() == manifest, "the same distribution again changed it"

    source = root / "sources" / "alpha.yaml"
    source.write_text(replace_once(source.read_text(encoding="utf-8"), TITLE, f"{TITLE}, revised"), encoding="utf-8")
    assert run_briefgen("distribute", "--recipients", "next.csv", "--jobs", "1", cwd=root).returncode == 0
    earlier = json.loads((root / "dist" / "manifest.json").read_bytes())["earlier"]
    assert [row["copy_id"] for row in earlier] == [
        first[anna["email"]],
        first[john["email"]],
        first[marie["email"]],
        now[john["email"]],
        now[marie["email"]],
    ]
    revised = {row["recipient"]["email"]: row["copy_id"] for row in listed_copies(root / "dist")}
    assert trace_line(root, "sent/alpha/john-smith.pdf").endswith(
        f"; the file is an earlier copy as sent, since superseded by copy {revised[john['email']]}"
        " (stamped for Jonathan Smith, Foreign Office); the same id was on an earlier copy stamped for"
        " Jonathan Smith, Foreign Office"
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listed_copies(out: Path) -> list[dict]:
    """The manifest's rows, after checking that every copy on disk is one it lists: each PDF in a brief's
    folder at its path with its sha256, and each PDF inside a bundle by its sha256."""
    rows = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["copies"]
    on_disk = {
        path.relative_to(out).as_posix(): sha256(path.read_bytes()) for path in out.glob("*/*.pdf") if path.is_file()
    }
    assert on_disk == {row["path"]: row["sha256"] for row in rows}, "copies on disk that the manifest does not list"
    for bundle in out.glob("bundles/*.zip"):
        with zipfile.ZipFile(bundle) as archive:
            for name in archive.namelist():
                assert sha256(archive.read(name)) in set(on_disk.values()), f"{bundle.name}: {name} is not listed"
    return rows


def test_an_interrupted_distribution_lists_the_copies_it_wrote(tmp_path: Path) -> None:
    """Ctrl-C while the second sheet of stamps is written: exit 130, the manifest lists the copies of the
    first sheet, and every other copy is gone; the next run finishes and keeps only its recipients' copies."""
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    many = [{"name": f"Reader {n}", "organisation": "Institute", "email": f"r{n}@example.org"} for n in range(450)]
    write_file(root / "many.csv", recipients_csv(many))
    write_file(root / "few.csv", recipients_csv(many[:10]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "distribute", "--recipients", "many.csv", "--jobs", "1"],
        cwd=root,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a terminal's Ctrl-C signals the whole process group
        preexec_fn=as_a_foreground_job,
    )
    while len(list((root / "dist" / "alpha").glob("*.pdf"))) <= STAMPS_PER_SHEET and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert_no_traceback(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    assert proc.returncode == 130, stderr
    assert STAMPS_PER_SHEET <= len(listed_copies(root / "dist")) < len(many)
    assert [path.name for path in (root / "dist").rglob(".*")] == [], "temporary files left behind"
    traced = run_briefgen("trace", "dist/alpha/reader-0.pdf", cwd=root)
    assert traced.stdout.endswith("prepared for Reader 0, Institute <r0@example.org>; the file is the copy as sent\n")

    again = run_briefgen("distribute", "--recipients", "few.csv", "--jobs", "1", cwd=root)
    assert again.returncode == 0, again.stderr
    assert sorted(row["path"] for row in listed_copies(root / "dist")) == sorted(
        f"alpha/reader-{n}.pdf" for n in range(10)
    )


def test_a_distribution_that_fails_midway_leaves_only_listed_copies(tmp_path: Path) -> None:
    """A copy that cannot be written (a folder stands at its path) fails the run after others were written
    with new copy ids: those are deleted with the bundles that may hold them, and the copies of the earlier
    distribution the run did not touch stay listed."""
    root = make_project(tmp_path / "project", MEMOS)
    write_file(root / "all.csv", recipients_csv(RECIPIENTS))
    assert run_briefgen("distribute", "--recipients", "all.csv", "--jobs", "1", cwd=root).returncode == 0
    (root / "dist" / "beta" / "marie-dupont.pdf").unlink()
    (root / "dist" / "beta" / "marie-dupont.pdf").mkdir()
    # John changes edition (new copy ids); Anna is left out, so her copies are not touched
    write_file(root / "next.csv", recipients_csv([RECIPIENTS[1] | {"edition": "public"}, RECIPIENTS[2]]))
    proc = run_briefgen("distribute", "--recipients", "next.csv", "--jobs", "1", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["dist/beta/marie-dupont.pdf: error: cannot write output: Is a directory"]
    rows = listed_copies(root / "dist")
    assert sorted(row["path"] for row in rows) == ["alpha/anna-petrova.pdf", "beta/anna-petrova.pdf"]
    assert sorted(path.name for path in (root / "dist" / "bundles").iterdir()) == ["anna-petrova.zip"]


def test_copies_no_manifest_lists_are_removed_by_the_next_distribution(tmp_path: Path) -> None:
    """A run killed outright leaves copies, bundles and half-written temporary files its manifest never
    listed: the next run deletes them, and only files that look like copies (PDFs in a brief's folder, zips
    in bundles/)."""
    root = make_project(tmp_path / "project", {"alpha.yaml": MEMOS["alpha.yaml"]})
    write_file(root / "r.csv", recipients_csv(RECIPIENTS[2:]))
    assert run_briefgen("distribute", "--recipients", "r.csv", "--jobs", "1", cwd=root).returncode == 0
    copy = (root / "dist" / "alpha" / "marie-dupont.pdf").read_bytes()
    (root / "dist" / "alpha" / "killed-run.pdf").write_bytes(copy.replace(b"Marie", b"Maria"))
    (root / "dist" / "bundles" / "killed-run.zip").write_bytes(b"PK")
    (root / "dist" / "alpha" / ".killed-run.pdf.x1y2.briefgen-tmp").write_bytes(copy[:1000])
    (root / "dist" / "alpha" / "notes.txt").write_text("ours", encoding="utf-8")
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--jobs", "1", cwd=root)
    assert proc.returncode == 0, proc.stderr
    unfinished = "removed 1 copy and 1 bundle that no manifest listed, left by a run that did not finish"
    assert unfinished in proc.stdout.splitlines()
    listed_copies(root / "dist")
    assert sorted(tree(root / "dist")) == [
        "alpha/marie-dupont.pdf",
        "alpha/notes.txt",
        "bundles/marie-dupont.zip",
        "manifest.json",
    ]


def test_a_file_name_never_passes_to_another_recipient(tmp_path: Path) -> None:
    """Recipients who would share a file name get their organisation added, then a hash: John Smith's copy
    does not become another John Smith's when one is added ahead of him, whatever the order of the list."""
    root = make_project(tmp_path / "project", {"alpha.yaml": MEMOS["alpha.yaml"]})
    john, marie = RECIPIENTS[1:]
    new_org = john | {"organisation": "New Org", "email": "js@new.example.org"}
    same_org = john | {"email": "js2@example.org"}
    owners: dict[str, set[str]] = {}
    for name, rows in {"before": [john, marie], "after": [same_org, new_org, john, marie]}.items():
        write_file(root / f"{name}.csv", recipients_csv(rows))
        proc = run_briefgen("distribute", "--recipients", f"{name}.csv", "--jobs", "1", cwd=root)
        assert proc.returncode == 0, proc.stderr
        for row in listed_copies(root / "dist"):
            owners.setdefault(row["path"], set()).add(row["recipient"]["email"])
    assert all(len(emails) == 1 for emails in owners.values()), owners
    files = {row["recipient"]["email"]: row["path"] for row in listed_copies(root / "dist")}
    assert files["john.smith@example.org"].startswith("alpha/john-smith-foreign-office-")
    assert files["js2@example.org"].startswith("alpha/john-smith-foreign-office-")
    assert files["js@new.example.org"] == "alpha/john-smith-new-org.pdf"
    assert files["marie@example.org"] == "alpha/marie-dupont.pdf"
    project = Project.open(root)
    forward = load_recipients(root / "after.csv", project)
    write_file(root / "reversed.csv", recipients_csv([marie, john, new_org, same_org]))
    backward = load_recipients(root / "reversed.csv", project)
    assert {r.email: r.slug for r in forward} == {r.email: r.slug for r in backward}


def test_long_names_and_organisations_make_file_names_of_bounded_length(tmp_path: Path) -> None:
    """A long name is cut at a word's end, and so is the organisation added when two names clash; two names
    that still clash after the cut get their hash."""
    root = make_project(tmp_path / "project", {"alpha.yaml": SOURCES["alpha.yaml"]})
    ministry = "Directorate-General for Neighbourhood and Enlargement Negotiations, European Commission, Brussels"
    long_name = "Maria " + " ".join(["Alexandra"] * 12)
    rows = [
        {"name": "Ann Lee", "organisation": ministry + " (A)", "email": "a@example.org"},
        {"name": "Ann Lee", "organisation": ministry + " (B)", "email": "b@example.org"},
        {"name": long_name, "organisation": "Org", "email": "m@example.org"},
    ]
    write_file(root / "r.csv", recipients_csv(rows))
    proc = run_briefgen("distribute", "--recipients", "r.csv", "--jobs", "1", cwd=root)
    assert proc.returncode == 0, proc.stderr
    files = {row["recipient"]["email"]: row["path"] for row in listed_copies(root / "dist")}
    assert files["m@example.org"] == "alpha/maria-alexandra-alexandra-alexandra-alexandra-alexandra.pdf"
    prefix = "alpha/ann-lee-directorate-general-for-neighbourhood-"
    assert files["a@example.org"].startswith(prefix) and files["b@example.org"].startswith(prefix)
    assert files["a@example.org"] != files["b@example.org"]
    assert max(len(Path(path).name) for path in files.values()) <= 120
    assert sorted(path.name for path in (root / "dist" / "alpha").glob("*.pdf")) == sorted(
        Path(path).name for path in files.values()
    )


AWKWARD_CSVS = {
    # name: (the file's bytes, the one error expected)
    "latin-1": (
        b"name,organisation,email\nJos\xe9 Ruiz,Org,jose@example.org\n",
        "r.csv:2: error: not UTF-8 text (byte 0xE9); export the spreadsheet as 'CSV UTF-8'",
    ),
    "empty": (
        b"",
        "r.csv: error: the file is empty; its first row names the columns: name, organisation, email, edition",
    ),
    "name-over-two-lines": (
        b'name,organisation,email\nAda,Org,ada@example.org\n"Bob\nJones",Org,bob@example.org\n',
        "r.csv:3: error: name: must be one line",
    ),
    "unclosed-quote": (
        b'name,organisation,email\nAda,Org,ada@example.org\n"Bob Jones,Org,bob@example.org\nCy,Org,cy@example.org\n',
        'r.csv:3: error: a quote (") opened in this row is never closed, so the rest of the file reads as one field',
    ),
    "control-character": (
        b"name,organisation,email\nBob\x00Jones,Org,bob@example.org\n",
        "r.csv:2: error: name: the control character U+0000 is not allowed; remove it",
    ),
}


@pytest.mark.parametrize("case", AWKWARD_CSVS)
def test_an_awkward_csv_gets_one_error_at_the_row_it_starts_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    content, expected = AWKWARD_CSVS[case]
    root = make_project(tmp_path / "project", SOURCES)
    (root / "r.csv").write_bytes(content)
    monkeypatch.chdir(root)
    with pytest.raises(BriefgenError) as caught:
        load_recipients(Path("r.csv"), Project.open(Path(".")))
    assert [str(diagnostic) for diagnostic in caught.value.diagnostics] == [expected]
