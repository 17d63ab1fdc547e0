"""Stage 5, print PDF: real WeasyPrint output, read back with pypdf and pdftotext."""

import base64
import datetime as dt
import io
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pikepdf
import pytest
from fontTools.ttLib import TTFont
from helpers import (
    REPO,
    SAMPLE_ID,
    SAMPLE_TEXT,
    Built,
    assert_likelihoods_beside_judgments,
    assert_no_traceback,
    build_sample,
    make_project,
    pdf_pages_text,
    pdf_text,
    run_briefgen,
)
from pypdf import PdfReader
from zlib_ng import zlib_ng

from briefgen.theming import available_themes, builtin_templates_dir


@pytest.fixture(scope="module")
def text(sample_build: Built) -> str:
    return pdf_text(sample_build.pdf)


def outline_entries(reader: PdfReader) -> list[tuple[str, int]]:
    """Every bookmark, depth first, with the index of the page it points to."""
    entries: list[tuple[str, int]] = []

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                entries.append((item.title, reader.get_destination_page_number(item)))

    walk(reader.outline)
    return entries


# --- content --------------------------------------------------------------------------------------


def test_the_brief_runs_to_several_pages(sample_pdf: PdfReader) -> None:
    assert len(sample_pdf.pages) >= 2


def test_text_has_title_bottom_line_and_members(text: str, sample_data: dict) -> None:
    assert sample_data["brief"]["title"] in text
    assert " ".join(sample_data["bottom_line"].split()[:8]) in text
    for member in sample_data["event"]["members"]:
        assert member["name"] in text


def test_letter_spaced_capitals_read_back_as_words(text: str) -> None:
    assert "BOTTOM LINE" in text and "COMMENTARY" in text
    assert not re.search(r"\b(?:[A-Z] ){3,}", text)  # "B O T T O M": tracking too wide for PDF readers


def test_every_judgment_has_its_likelihood_in_the_pdf(text: str, sample_data: dict) -> None:
    assert_likelihoods_beside_judgments(text, sample_data["key_judgments"])


# --- metadata -------------------------------------------------------------------------------------


def test_document_information(sample_pdf: PdfReader, sample_data: dict) -> None:
    info = sample_pdf.metadata
    assert info is not None
    assert info.title == sample_data["brief"]["title"]
    assert "Eurasia Security Desk" in (info.author or "")
    keywords = info.get("/Keywords") or ""
    for keyword in sample_data["brief"]["keywords"]:
        assert keyword in keywords


def test_document_language(sample_pdf: PdfReader) -> None:
    assert sample_pdf.trailer["/Root"].get("/Lang") == "en"


def test_dates_come_from_the_published_date_not_the_clock(sample_pdf: PdfReader) -> None:
    info = sample_pdf.metadata
    assert str(info["/CreationDate"]).startswith("D:20181116")
    assert info.creation_date is not None and info.creation_date.date() == dt.date(2018, 11, 16)
    assert str(info.get("/ModDate", "D:20181116")).startswith("D:20181116")


def test_outline_has_the_section_headings(sample_pdf: PdfReader, sample_data: dict) -> None:
    entries = outline_entries(sample_pdf)
    assert entries, "the PDF has no bookmarks"
    titles = [title for title, _ in entries]
    assert any(re.search(r"bottom line", title, re.I) for title in titles), titles
    assert any(re.search(r"judgments?", title, re.I) for title in titles), titles
    assert any(re.search(r"sources|references", title, re.I) for title in titles), titles
    pages = [page for _, page in entries]
    assert all(0 <= page < len(sample_pdf.pages) for page in pages)


def test_every_page_says_page_n_of_total(sample_build: Built, sample_pdf: PdfReader) -> None:
    # print.css: @bottom-right { content: "Page " counter(page) " of " counter(pages) }
    pages = pdf_pages_text(sample_build.pdf)
    total = len(sample_pdf.pages)
    assert len(pages) == total
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in page, f"page {number}: {page[-200:]!r}"


def bundled_font_names() -> set[str]:
    fonts = builtin_templates_dir() / "common" / "fonts"
    return {TTFont(path)["name"].getDebugName(6) for path in fonts.glob("*.[ot]tf")}


def embedded_fonts(reader: PdfReader) -> dict[str, str | None]:
    """Base font name -> PostScript name of the embedded font program (None when not embedded)."""
    found: dict[str, str | None] = {}
    for page in reader.pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            program = None
            if descriptor is not None:
                descriptor = descriptor.get_object()
                for key in ("/FontFile2", "/FontFile3", "/FontFile"):
                    if key in descriptor:
                        data = descriptor[key].get_object().get_data()
                        program = TTFont(io.BytesIO(data))["name"].getDebugName(6) if key == "/FontFile2" else key
                        break
            found[str(font["/BaseFont"])] = program
    return found


def test_only_the_bundled_fonts_are_embedded(sample_pdf: PdfReader) -> None:
    bundled = bundled_font_names()
    assert bundled, "no bundled fonts found"
    fonts = embedded_fonts(sample_pdf)
    assert fonts
    not_embedded = [name for name, program in fonts.items() if program is None]
    assert not not_embedded, f"fonts not embedded: {not_embedded}"
    foreign = {name: program for name, program in fonts.items() if program not in bundled}
    assert not foreign, f"fonts that are not among the bundled {sorted(bundled)}: {foreign}"


def test_streams_are_deflated_by_zlib_ng_at_level_9(sample_build: Built) -> None:
    """WeasyPrint's writer asks for level 9; briefgen hands it zlib-ng, whose deflate differs from zlib's."""
    with pikepdf.open(sample_build.pdf) as pdf:
        deflated = [
            obj
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Stream) and obj.get("/Filter") == pikepdf.Name.FlateDecode
        ]
        assert len(deflated) >= 10  # pages, fonts, the tags' streams
        pairs = [(obj.read_raw_bytes(), obj.read_bytes()) for obj in deflated]
    assert all(raw == zlib_ng.compress(data, 9) for raw, data in pairs)
    assert any(raw != zlib.compress(data, 9) for raw, data in pairs)


# --- determinism ----------------------------------------------------------------------------------


def test_two_builds_in_two_folders_are_byte_identical(sample_build: Built, tmp_path: Path) -> None:
    again = build_sample(tmp_path / "elsewhere" / "deeper")
    assert again.pdf.read_bytes() == sample_build.pdf.read_bytes()
    assert again.html.read_bytes() == sample_build.html.read_bytes()


# --- the resource sandbox -------------------------------------------------------------------------

PASSWD = Path("/etc/passwd").read_bytes()

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{{{ assessment.brief.title }}}}</title>{head}</head>
<body><h1>{{{{ assessment.brief.title }}}}</h1>{body}</body>
</html>
"""


def print_with(root: Path, head: str = "", body: str = "", *options: str):
    make_project(root)
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "brief.html.j2").write_text(TEMPLATE.format(head=head, body=body), encoding="utf-8")
    proc = run_briefgen("build", "--format", "pdf", *options, cwd=root)
    assert_no_traceback(proc)
    return proc


def assert_nothing_leaked(root: Path) -> None:
    assert not (root / "build" / f"{SAMPLE_ID}.pdf").exists()
    for path in root.rglob("*"):
        if path.is_file() and path.name != "passwd-link.css":
            assert PASSWD[:32] not in path.read_bytes(), f"{path} holds bytes of /etc/passwd"


@pytest.mark.parametrize(
    ("head", "body", "named"),
    [
        ("", '<img src="file:///etc/passwd" alt="">', "/etc/passwd"),
        ("", '<img src="../../../../../../../../etc/passwd" alt="">', "/etc/passwd"),
        ('<link rel="stylesheet" href="file:///etc/passwd">', "", "/etc/passwd"),
        ('<style>@import url("file:///etc/passwd");</style>', "", "/etc/passwd"),
        ("", '<p style="background: url(file:///etc/passwd)">x</p>', "/etc/passwd"),
        ("", '<a rel="attachment" href="file:///etc/passwd">x</a>', "/etc/passwd"),
        ('<link rel="stylesheet" href="http://169.254.169.254/x">', "", "http://169.254.169.254/x"),
        ("", '<img src="https://example.org/pixel.png" alt="">', "https://example.org/pixel.png"),
    ],
    ids=["img", "relative-img", "stylesheet", "css-import", "css-url", "attachment", "metadata-ip", "web-image"],
)
def test_resources_outside_the_project_fail_the_brief(tmp_path: Path, head: str, body: str, named: str) -> None:
    root = tmp_path / "p"
    proc = print_with(root, head, body)
    assert proc.returncode == 1
    assert named in proc.stderr, proc.stderr
    assert f"failed  sources/{SAMPLE_ID}.yaml" in proc.stderr
    assert_nothing_leaked(root)


def test_a_symlink_out_of_the_project_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir(parents=True)
    (root / "passwd-link.css").symlink_to("/etc/passwd")
    proc = print_with(root, '<link rel="stylesheet" href="passwd-link.css">')
    assert proc.returncode == 1
    assert "passwd-link.css" in proc.stderr
    assert_nothing_leaked(root)


def test_a_broken_embedded_image_is_reported_without_its_whole_data_url(tmp_path: Path) -> None:
    root = tmp_path / "p"
    payload = base64.b64encode(b"not a picture at all " * 400).decode("ascii")
    proc = print_with(root, "", f'<img src="data:application/octet-stream;base64,{payload}" alt="x">')
    assert proc.returncode == 1
    [error] = [line for line in proc.stderr.splitlines() if "PDF error" in line]
    assert "data:application/octet-stream;base64," in error
    assert payload not in error and len(error) < 300, error
    assert_nothing_leaked(root)


def test_an_allowed_host_still_cannot_reach_private_addresses(tmp_path: Path) -> None:
    root = tmp_path / "p"
    proc = print_with(
        root, '<link rel="stylesheet" href="http://169.254.169.254/x">', "", "--allow-host", "169.254.169.254"
    )
    assert proc.returncode == 1
    assert "http://169.254.169.254/x" in proc.stderr
    assert_nothing_leaked(root)


def test_a_host_not_allowed_is_named_with_the_allowed_ones(tmp_path: Path) -> None:
    root = tmp_path / "p"
    proc = print_with(root, "", '<img src="http://127.0.0.1/x.png" alt="">', "--allow-host", "example.org")
    assert proc.returncode == 1
    refusal = "http://127.0.0.1/x.png: 127.0.0.1 is not among the allowed hosts (example.org); add it with --allow-host"
    assert refusal in proc.stderr, proc.stderr
    assert "network access is off" not in proc.stderr
    assert_nothing_leaked(root)


def test_without_allowed_hosts_the_network_is_off(tmp_path: Path) -> None:
    root = tmp_path / "p"
    proc = print_with(root, "", '<img src="http://127.0.0.1/x.png" alt="">')
    assert proc.returncode == 1
    assert "http://127.0.0.1/x.png: network access is off (allow a host with --allow-host)" in proc.stderr
    assert_nothing_leaked(root)


PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_an_image_inside_the_project_is_allowed(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "templates").mkdir(parents=True)
    (root / "templates" / "pixel.png").write_bytes(PIXEL)
    proc = print_with(root, "", '<img src="{{ asset_url(\'pixel.png\') }}" alt="a pixel" style="width: 2cm">')
    assert proc.returncode == 0, proc.stderr
    reader = PdfReader(root / "build" / f"{SAMPLE_ID}.pdf")
    objects = reader.pages[0]["/Resources"].get("/XObject", {})
    assert any(obj.get_object().get("/Subtype") == "/Image" for obj in objects.values())


# --- the Russian edition and every theme ------------------------------------------------------------


@pytest.fixture(scope="module")
def russian_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("russian"), sources={})
    shutil.copy(REPO / "sources" / "csto-astana-2018.ru.yaml", root / "sources" / "ru.yaml")
    proc = run_briefgen("build", "--format", "pdf", cwd=root)
    assert proc.returncode == 0, proc.stderr
    return root / "build" / "ru.pdf"


def test_the_russian_brief_embeds_only_the_bundled_fonts(russian_pdf: Path) -> None:
    fonts = embedded_fonts(PdfReader(russian_pdf))
    assert fonts and set(fonts.values()) <= bundled_font_names(), fonts


def test_the_russian_brief_extracts_as_cyrillic_with_no_missing_glyphs(russian_pdf: Path) -> None:
    pages = pdf_pages_text(russian_pdf)
    text = " ".join(pages)
    assert "Единство в контроле над вооружениями" in text
    assert "Саммит в Астане показал Организацию Договора о коллективной безопасности" in text
    assert "г.." not in text
    assert "8 ноября 2018" in text
    assert "\ufffd" not in text  # a glyph that did not map back to a character
    for number, page in enumerate(pages, start=1):
        assert f"Стр. {number} из {len(pages)}" in page, page[-120:]


@pytest.mark.parametrize("theme", sorted(available_themes(REPO)))
def test_every_builtin_theme_renders_the_sample(theme: str, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    proc = run_briefgen("build", "--format", "pdf", "--theme", theme, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    pages = pdf_pages_text(root / "build" / f"{SAMPLE_ID}.pdf")
    assert "United on arms control" in pages[0]
    if theme == "memo":
        assert len(pages) == 1


FONT_FEATURE_PROPERTIES = re.compile(r"font-(kerning|feature-settings|variant(-\w+)?)$")


def print_declarations(stylesheet: Path) -> list[str]:
    """The declarations of a stylesheet that reach the PDF: outside @media screen and @font-face."""
    import tinycss2

    found: list[str] = []

    def walk(rules: list) -> None:
        for rule in rules:
            if rule.type == "qualified-rule":
                found.extend(
                    f"{stylesheet.name}:{item.source_line}: {item.lower_name}"
                    for item in tinycss2.parse_blocks_contents(rule.content, skip_whitespace=True)
                    if item.type == "declaration"
                )
            elif (
                rule.type == "at-rule"
                and rule.content is not None
                and rule.lower_at_keyword == "media"
                and "screen" not in tinycss2.serialize(rule.prelude)
            ):
                walk(tinycss2.parse_rule_list(rule.content, skip_whitespace=True, skip_comments=True))

    walk(tinycss2.parse_stylesheet(stylesheet.read_text(encoding="utf-8"), skip_whitespace=True, skip_comments=True))
    return found


def test_builtin_print_styles_set_no_font_feature_properties() -> None:
    """WeasyPrint leaks memory for every line laid out with font features set by properties, so the
    built-in styles give print its figures from the faces' @font-face rules instead."""
    sheets = sorted(builtin_templates_dir().rglob("*.css"))
    assert len(sheets) >= 3
    offending = [
        declaration
        for sheet in sheets
        for declaration in print_declarations(sheet)
        if FONT_FEATURE_PROPERTIES.search(declaration.rsplit(" ", 1)[-1])
    ]
    assert offending == []


def test_a_counter_style_declared_in_a_template_numbers_its_list(tmp_path: Path) -> None:
    """Styles reach the printer parsed apart from the HTML; their @counter-style rules must come along."""
    root = make_project(tmp_path / "p")
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_text(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>{{ assessment.brief.title }}</title>\n'
        '{% call style() %}@counter-style pilcrows { system: cyclic; symbols: "¶"; suffix: " "; }\n'
        "ol { list-style: pilcrows inside; }{% endcall %}\n"
        "</head>\n<body>\n<ol><li>first point</li><li>second point</li></ol>\n</body>\n</html>\n",
        encoding="utf-8",
    )
    proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", "out.pdf", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    text = pdf_text(root / "out.pdf")
    assert "¶ first point" in text and "¶ second point" in text, text


# --- url()s in stylesheet files ---------------------------------------------------------------------

HOUSE_FACE = "HouseFaceTest-Regular"
HOUSE_CSS = '@font-face { font-family: "House"; src: url(fonts/house.ttf); }\nh1 { font-family: "House", serif; }\n'
HOUSE_TEMPLATE = '{% extends "layout.html.j2" %}{% block extra_head %}{{ stylesheet("house.css") }}{% endblock %}\n'


def house_font() -> bytes:
    """A bundled font renamed, so that the PDF shows whether it was the one embedded."""
    font = TTFont(builtin_templates_dir() / "common" / "fonts" / "NotoSans-Regular.ttf")
    for record in font["name"].names:
        if record.nameID in (1, 4, 6):
            record.string = {1: "House", 4: "House", 6: HOUSE_FACE}[record.nameID]
    data = io.BytesIO()
    font.save(data)
    return data.getvalue()


def house_project(root: Path, folder: str, css: str = HOUSE_CSS, font: str | None = "fonts/house.ttf") -> Path:
    """The sample with brief.html.j2 and house.css in folder (of templates/), and the font where given."""
    make_project(root)
    (root / "templates" / folder).mkdir(parents=True, exist_ok=True)
    (root / "templates" / folder / "brief.html.j2").write_text(HOUSE_TEMPLATE, encoding="utf-8")
    (root / "templates" / folder / "house.css").write_text(css, encoding="utf-8")
    if font is not None:
        (root / "templates" / folder / font).parent.mkdir(parents=True, exist_ok=True)
        (root / "templates" / folder / font).write_bytes(house_font())
    if folder.startswith("themes/"):
        (root / "templates" / folder / "theme.yaml").write_text("description: house\nextends: brief\n")
    return root


def render_house(root: Path, output: str, *options: str):
    proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", output, *options, cwd=root)
    assert_no_traceback(proc)
    return proc


@pytest.mark.parametrize(("folder", "options"), [(".", ()), ("themes/house", ("--theme", "house"))])
def test_a_font_beside_a_stylesheet_is_found_relative_to_it(tmp_path: Path, folder: str, options: tuple) -> None:
    pixel = f"data:image/png;base64,{base64.b64encode(PIXEL).decode('ascii')}"
    untouched = (
        f"h2 {{ background: url({pixel}); }}\n.a {{ filter: url(#shade); }}\n.b {{ cursor: url(/x.cur), auto; }}\n"
    )
    root = house_project(tmp_path / "p", folder, HOUSE_CSS + untouched)
    proc = render_house(root, "out.pdf", *options)
    assert proc.returncode == 0, proc.stderr
    assert HOUSE_FACE in embedded_fonts(PdfReader(root / "out.pdf")).values()
    proc = render_house(root, "out.html", *options)
    assert proc.returncode == 0, proc.stderr
    html = (root / "out.html").read_text(encoding="utf-8")
    font = base64.b64encode((root / "templates" / folder / "fonts" / "house.ttf").read_bytes()).decode("ascii")
    assert f'@font-face {{ font-family: "House"; src: url("data:font/ttf;base64,{font}"); }}' in html
    assert "fonts/house.ttf" not in html
    assert untouched in html


@pytest.mark.parametrize("output", ["out.pdf", "out.html"])
def test_a_missing_file_is_reported_at_the_stylesheet_url(tmp_path: Path, output: str) -> None:
    root = house_project(tmp_path / "p", ".", font="house.ttf")
    proc = render_house(root, output)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["templates/house.css:1:41: error: templates/fonts/house.ttf: no such file"]
    assert not (root / output).exists()


@pytest.mark.parametrize("output", ["out.pdf", "out.html"])
def test_a_stylesheet_url_out_of_the_project_is_refused_at_its_line(tmp_path: Path, output: str) -> None:
    (tmp_path / "secret.ttf").write_bytes(house_font())
    css = "h1 { color: red; }\n" + HOUSE_CSS.replace("fonts/house.ttf", "'../../secret.ttf'")
    root = house_project(tmp_path / "p", ".", css=css, font=None)
    proc = render_house(root, output)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"templates/house.css:2:41: error: resource refused: {tmp_path / 'secret.ttf'}: "
        "outside the project and briefgen's own files"
    ]
    assert not (root / output).exists()


def test_a_missing_file_in_a_templates_style_block_is_reported_at_the_template(tmp_path: Path) -> None:
    template = (
        '{% extends "layout.html.j2" %}\n{% block extra_head %}{% call style() %}\n'
        "@font-face { font-family: X; src: url(fonts/none.ttf); }\n{% endcall %}{% endblock %}\n"
    )
    root = make_project(tmp_path / "p")
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_text(template, encoding="utf-8")
    proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", "out.pdf", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    [line] = proc.stderr.splitlines()
    assert re.fullmatch(
        r"templates/brief\.html\.j2 \(a style block\): error: fonts/none\.ttf: no such file"
        r" \(at \d+:\d+ of the block\)",
        line,
    ), line


def test_a_url_broken_at_a_line_end_gets_no_hyphen(tmp_path: Path) -> None:
    """Sources whose titles grow a word at a time put their URLs at every place on a line, some at its end:
    a URL may break anywhere there, but never with a hyphen added ("ht‐tps://…" would be copied as written)."""
    words = ["Negotiation", "leverage", "border", "partnership", "exercise", "observer", "framework", "deterrence"]
    entries = [
        f'  - id: source-{n}\n    title: "{" ".join((words * 4)[: 3 + n])}"\n'
        f"    url: https://example.org/international/cooperation/documents/{n}\n    reliability: B2\n"
        for n in range(16)
    ]
    text = SAMPLE_TEXT.replace("\nsources:\n", "\nsources:\n" + "".join(entries), 1)
    root = make_project(tmp_path / "project", {"brief.yaml": text})
    proc = run_briefgen("render", "sources/brief.yaml", "-o", "brief.pdf", cwd=root)
    assert proc.returncode == 0, proc.stderr
    lines = subprocess.run(["pdftotext", "brief.pdf", "-"], cwd=root, capture_output=True, text=True, check=True).stdout
    urls = [f"https://example.org/international/cooperation/documents/{n}" for n in range(16)]
    assert any(url not in lines for url in urls), "no URL broke at a line end: the test proves nothing"
    joined = lines.replace("\n", "")
    assert [url for url in urls if url not in joined] == []


def test_a_value_the_printer_breaks_on_is_an_error_at_its_declaration(tmp_path: Path) -> None:
    """WeasyPrint 70's grid validator raises IndexError on "/": an error at the line, not a traceback."""
    root = house_project(tmp_path / "p", ".", css=":root { --c: #123456; }\n.g { color: var(--c); grid: /; }\n")
    proc = render_house(root, "out.pdf")
    assert proc.returncode == 1
    [line] = proc.stderr.splitlines()
    expected = "templates/house.css:2:23: error: the PDF printer broke on this declaration (IndexError"
    assert line.startswith(expected), line  # at the column as written, though var(--c) was folded before it
    assert not (root / "out.pdf").exists()


def test_a_style_the_printer_breaks_on_while_laying_out_fails_the_brief_not_the_build(tmp_path: Path) -> None:
    css = ":root { --g: / }\nbody { display: grid; grid: var(--g); }\n"  # the same IndexError, per element
    root = house_project(tmp_path / "p", ".", css=css)
    proc = run_briefgen("build", "--format", "pdf", "--jobs", "2", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    broke = "error: the PDF printer broke while laying the brief out (IndexError"
    assert f"sources/{SAMPLE_ID}.yaml: {broke}" in proc.stderr
    assert f"failed  sources/{SAMPLE_ID}.yaml" in proc.stderr
    assert not list((root / "build").glob("*.pdf"))
