"""briefgen.yaml's warnings: located like its errors, printed once per command, never failing it; and the
config's fonts print each face from the file given for it, even when the files come from different families."""

import io
import json
import shutil
from pathlib import Path

from fontTools.ttLib import TTFont
from helpers import SAMPLE_TEXT, assert_no_traceback, make_project, replace_once, run_briefgen
from pypdf import PdfReader

from briefgen.theming import builtin_templates_dir

BUNDLED_FONTS = builtin_templates_dir() / "common" / "fonts"
BOLD_AS_REGULAR = (
    "briefgen.yaml:4:14: warning: 'fonts/NotoSans-Bold.ttf' is a bold face ('Noto Sans', weight 700), given as the "
    "regular of 'House Sans': regular text will print bold; give a regular file"
)


def project_with_fonts(root: Path, faces: dict[str, str], sources: int = 1) -> Path:
    """A project whose body font is made of the bundled font files given for each face (regular: NotoSans-Bold)."""
    text = replace_once(SAMPLE_TEXT, "lines up\n  behind Moscow", "lines up\n  **behind Moscow**")  # bold text
    make_project(root, {f"brief-{number}.yaml": text for number in range(sources)})
    (root / "fonts").mkdir()
    for name in faces.values():
        shutil.copy(BUNDLED_FONTS / f"{name}.ttf", root / "fonts")
    lines = "".join(f"    {face}: fonts/{name}.ttf\n" for face, name in faces.items())
    (root / "briefgen.yaml").write_text(f"fonts:\n  body:\n    family: House Sans\n{lines}", encoding="utf-8")
    return root


def embedded_fonts(pdf: Path) -> dict[str, str]:
    """The fonts a PDF embeds: each one's name in the PDF (without the subset tag) and the full name
    (name id 4) of the font file it was cut from."""
    found = {}
    for page in PdfReader(pdf).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            data = descriptor["/FontFile2"].get_object().get_data()
            found[str(font["/BaseFont"]).split("+")[-1]] = TTFont(io.BytesIO(data))["name"].getDebugName(4)
    return found


def test_a_face_given_a_file_of_another_weight_warns_once_per_command_without_failing(tmp_path: Path) -> None:
    root = project_with_fonts(
        tmp_path / "p", {"regular": "NotoSans-Bold", "italic": "NotoSans-Italic", "bold": "NotoSans-Bold"}, sources=2
    )
    (root / "r.csv").write_text("name,organisation,email\nAnna Berg,Institute,anna@example.org\n", encoding="utf-8")
    for command in (["validate"], ["build", "--format", "html"], ["distribute", "--recipients", "r.csv"]):
        proc = run_briefgen(*command, cwd=root)
        assert_no_traceback(proc)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.count(BOLD_AS_REGULAR) == 1, (command, proc.stderr)
        assert "error" not in proc.stderr, proc.stderr
    manifest = json.loads((root / "build" / "manifest.json").read_text(encoding="utf-8"))
    assert [brief["warnings"] for brief in manifest["briefs"]] == [[], []]  # the config's are not the briefs'


def test_an_italic_file_given_as_the_bold_warns_at_its_line(tmp_path: Path) -> None:
    root = project_with_fonts(tmp_path / "p", {"regular": "NotoSans-Regular", "bold": "NotoSans-Italic"})
    proc = run_briefgen("validate", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[0] == (
        "briefgen.yaml:5:11: warning: 'fonts/NotoSans-Italic.ttf' is an italic face ('Noto Sans', weight 400), given "
        "as the bold of 'House Sans': bold text will print italic; give a bold file"
    )


def test_fonts_of_the_right_faces_and_the_sample_project_raise_no_warning(tmp_path: Path) -> None:
    root = project_with_fonts(
        tmp_path / "p", {"regular": "NotoSans-Regular", "italic": "NotoSans-Italic", "bold": "NotoSans-Bold"}
    )
    proc = run_briefgen("validate", cwd=root)
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    sample = make_project(tmp_path / "sample")
    proc = run_briefgen("validate", cwd=sample)
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr


def test_faces_from_different_families_each_print_from_their_own_file(tmp_path: Path) -> None:
    # The bold file's own family, Noto Serif, is in the body's font stack: fontconfig used to print every
    # weight in it, since WeasyPrint keeps a file's own family name behind the one the rule gives it.
    root = project_with_fonts(tmp_path / "p", {"regular": "NotoSans-Regular", "bold": "NotoSerif-Bold"})
    proc = run_briefgen("build", "--format", "pdf", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr, proc.stderr
    fonts = embedded_fonts(root / "build" / "brief-0.pdf")
    assert fonts["House-Sans"] == "Noto Sans Regular", fonts
    assert fonts["House-Sans-Bold"] == "Noto Serif Bold", fonts


def test_a_changed_font_file_rebuilds_and_a_warning_changes_no_key(tmp_path: Path) -> None:
    root = project_with_fonts(tmp_path / "p", {"regular": "NotoSans-Bold"})
    first = run_briefgen("build", "--format", "pdf", cwd=root)
    assert first.returncode == 0 and BOLD_AS_REGULAR in first.stderr, first.stderr
    again = run_briefgen("build", "--format", "pdf", cwd=root)
    assert "0 built, 1 skipped" in again.stdout, again.stdout
    pdf = (root / "build" / "brief-0.pdf").read_bytes()
    shutil.copy(BUNDLED_FONTS / "NotoSans-Regular.ttf", root / "fonts" / "NotoSans-Bold.ttf")
    changed = run_briefgen("build", "--format", "pdf", cwd=root)
    assert "1 built, 0 skipped" in changed.stdout, changed.stdout
    assert "warning" not in changed.stderr, changed.stderr
    assert (root / "build" / "brief-0.pdf").read_bytes() != pdf
