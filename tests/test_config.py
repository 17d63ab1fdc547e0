"""briefgen.yaml: validated like a source, with PATH:LINE:COL errors; its settings reach the brief."""

from pathlib import Path

from helpers import SAMPLE_ID, assert_no_traceback, html_head, make_project, run_briefgen

from briefgen.theming import builtin_templates_dir


def write_config(root: Path, text: str) -> None:
    (root / "briefgen.yaml").write_text(text, encoding="utf-8")


def validate_errors(root: Path) -> list[str]:
    """What `briefgen validate` says of a project it refuses (exit 1, no traceback), line by line."""
    proc = run_briefgen("validate", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    return proc.stderr.splitlines()


def test_config_errors_are_located_like_source_errors(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write_config(
        root,
        "brand:\n  nmae: House\ncolours:\n  accent: blue\npaper: a5\nlanguage: English\n",
    )
    lines = validate_errors(root)
    assert "briefgen.yaml:2:3: error: unknown key 'nmae'; did you mean 'name'?" in lines
    assert "briefgen.yaml:4:11: error: expected a colour written as #rrggbb, e.g. #1b3a5c" in lines
    assert any(line.startswith("briefgen.yaml:5:8: error: 'a5' is not one of: a4, letter") for line in lines), lines
    assert "briefgen.yaml:6:11: error: expected a language tag such as 'en', 'ru' or 'en-GB'" in lines


def test_config_paths_must_be_files_inside_the_project(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (tmp_path / "outside.svg").write_text("<svg/>", encoding="utf-8")
    write_config(root, "brand:\n  logo: ../outside.svg\nfonts:\n  body: {family: X, regular: fonts/missing.ttf}\n")
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "briefgen.yaml:2:9: error: '../outside.svg' is outside the project folder" in proc.stderr
    assert "briefgen.yaml:4:30: error: 'fonts/missing.ttf' is not a file in the project" in proc.stderr
    assert not (root / "build" / f"{SAMPLE_ID}.html").exists()


def test_an_empty_config_means_the_defaults(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write_config(root, "# nothing set yet\n")
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr


def test_brand_and_colours_reach_the_html(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write_config(root, 'brand:\n  name: Eastern Institute\ncolours:\n  accent: "#7a1f2b"\n')
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    html = (root / "build" / f"{SAMPLE_ID}.html").read_text(encoding="utf-8")
    assert "Eastern Institute" in html
    assert "#7a1f2b" in html
    assert html_head(html).title  # still a complete document


def test_config_language_applies_to_briefs_without_one(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write_config(root, "language: ru\n")
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    html = (root / "build" / f"{SAMPLE_ID}.html").read_text(encoding="utf-8")
    assert '<html lang="en"' in html  # the sample says language: en itself
    source = root / "sources" / f"{SAMPLE_ID}.yaml"
    source.write_text(source.read_text(encoding="utf-8").replace("  language: en\n", ""), encoding="utf-8")
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    html = (root / "build" / f"{SAMPLE_ID}.html").read_text(encoding="utf-8")
    assert '<html lang="ru"' in html
    assert "8 ноября 2018" in html


def test_a_logo_that_is_not_an_image_is_refused_where_the_config_names_it(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "notes.svg").write_text("just some notes, not a picture\n", encoding="utf-8")
    write_config(root, "brand:\n  logo: notes.svg\n")
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "briefgen.yaml:2:9: error: 'notes.svg' is not an image: give an SVG, PNG or JPEG file"
    ]


def test_a_logo_that_is_an_image_is_taken(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>\n', "utf-8")
    write_config(root, "brand:\n  logo: logo.svg\n")
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "data:image/svg+xml;base64," in (root / "build" / f"{SAMPLE_ID}.html").read_text(encoding="utf-8")


def test_a_font_file_that_is_not_a_font_is_refused_where_the_config_names_it(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    real = (builtin_templates_dir() / "common" / "fonts" / "NotoSans-Regular.ttf").read_bytes()
    (root / "fonts").mkdir()
    (root / "fonts" / "Notes.ttf").write_text("not a font\n", encoding="utf-8")
    (root / "fonts" / "Cut.ttf").write_bytes(real[:3000])  # a download cut short
    (root / "fonts" / "Whole.ttf").write_bytes(real)
    write_config(
        root,
        "fonts:\n  body:\n    family: House\n    regular: fonts/Whole.ttf\n"
        "    italic: fonts/Notes.ttf\n    bold: fonts/Cut.ttf\n",
    )
    advice = "(damaged, truncated or another kind of file): give a TrueType, OpenType or WOFF file"
    assert validate_errors(root) == [
        f"briefgen.yaml:5:13: error: 'fonts/Notes.ttf' is not a font briefgen can read {advice}",
        f"briefgen.yaml:6:11: error: 'fonts/Cut.ttf' is not a font briefgen can read {advice}",
    ]


def test_a_choice_written_in_other_letter_case_gets_a_suggestion(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write_config(root, "paper: A4\n")
    assert validate_errors(root) == ["briefgen.yaml:1:8: error: 'A4' is not one of: a4, letter; did you mean 'a4'?"]


def test_a_url_among_the_allowed_hosts_is_located(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write_config(root, "network:\n  allow_hosts: [example.org, 'https://cdn.example.org/']\n")
    message = "'https://cdn.example.org/' is not a host name; give one such as example.org, not a URL"
    assert validate_errors(root) == [f"briefgen.yaml:2:30: error: {message}"]
