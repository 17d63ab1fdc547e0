"""Edition banners and copy stamps on the printed page.

A banner is marked on every page of its edition in every theme (the memo's tighter margins and a theme of
the project's own included), whole and clear of the running header and the text, and briefgen.yaml keeps
it short enough to fit. A distributed copy's stamp sits on a line of its own under the footer. Pages are
read back with pdftotext, page by page, and with pypdf for where each line of text stands.
"""

import re
import subprocess
from pathlib import Path

import pytest
from helpers import SAMPLE_TEXT, assert_no_traceback, line_of, make_project, run_briefgen
from pypdf import PdfReader

SHORT_BANNER = "Restricted: not for public distribution"
# Long enough to take two lines: in a text block of any built-in theme, "governments" comes near a line's end.
LONG_BANNER = (
    "Restricted: not for public distribution. This document contains sensitive assessments of partner "
    "governments and must be handled under the protocol agreed by the steering group in 2019, section 4"
)
CONFIG = f"""\
editions:
  public: {{}}
  restricted:
    banner: "{SHORT_BANNER}"
  partners:
    banner: "{LONG_BANNER}"
"""
# A theme of the project's own, written with no thought of banners: narrow margins, a centred header.
TIGHT_THEME = """\
{% extends "base.html.j2" %}
{% block theme_style %}{% call style(media="print") %}
@page { margin: 9mm 30mm 10mm 30mm; @top-center { content: "House notes"; vertical-align: bottom; } }
@page :first { margin-top: 9mm; }
{% endcall %}{% endblock %}
"""
THEMES = ["brief", "memo", "tight"]
BANNER_LENGTH = 200  # the longest banner briefgen.yaml takes, as the README says
MM = 72 / 25.4  # points in a millimetre


def long_sample() -> str:
    """The sample with its bottom line four times over: long enough to take the memo to a second page."""
    start = SAMPLE_TEXT.index("bottom_line: >-\n") + len("bottom_line: >-\n")
    end = SAMPLE_TEXT.index("\n\nkey_judgments:")
    paragraph = SAMPLE_TEXT[start:end]
    return SAMPLE_TEXT[:start] + "\n\n".join([paragraph] * 4) + SAMPLE_TEXT[end:]


def banner_project(root: Path) -> Path:
    make_project(root, {"long.yaml": long_sample()})
    (root / "briefgen.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "templates" / "themes" / "tight").mkdir(parents=True)
    (root / "templates" / "themes" / "tight" / "theme.yaml").write_text(
        "description: Tight\nextends: brief\n", encoding="utf-8"
    )
    (root / "templates" / "themes" / "tight" / "layout.html.j2").write_text(TIGHT_THEME, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return banner_project(tmp_path_factory.mktemp("banner") / "project")


@pytest.fixture(scope="module", params=THEMES)
def built(request: pytest.FixtureRequest, project: Path) -> Path:
    """The long brief in both bannered editions, in one theme; the folder holding restricted/ and partners/."""
    out = project / f"out-{request.param}"
    proc = run_briefgen(
        "build", "--format", "pdf", "--edition", "restricted,partners", "--theme", request.param, "--out", out,
        cwd=project,
    )  # fmt: skip
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    return out


def squeeze(text: str) -> str:
    """Text without whitespace, in one case: a banner is set in capitals, letter-spaced, over lines."""
    return re.sub(r"\s+", "", text).casefold()


def page_texts(pdf: Path) -> list[str]:
    """Each page's text as pdftotext gives it, a hyphen it finds at a line's end left in."""
    pages = len(PdfReader(pdf).pages)
    return [
        subprocess.run(
            ["pdftotext", "-enc", "UTF-8", "-f", str(n), "-l", str(n), str(pdf), "-"], capture_output=True, check=True
        ).stdout.decode("utf-8")
        for n in range(1, pages + 1)
    ]


def text_lines(page) -> list[tuple[float, float, str]]:
    """Each run of text on a page: its baseline and font size in points, from the paper's bottom, and text."""
    found: list[tuple[float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            found.append((tm[5] * cm[3] + cm[5], size * tm[3] * cm[3], text.strip()))

    page.extract_text(visitor_text=visit)
    return found


def extent(baseline: float, size: float) -> tuple[float, float]:
    """Roughly the height a line of text's letters take: a quarter of its size below, three quarters above."""
    return baseline - size / 4, baseline + size * 3 / 4


@pytest.mark.parametrize(
    "edition, banner", [("restricted", SHORT_BANNER), ("partners", LONG_BANNER)], ids=["short", "long"]
)
def test_every_page_carries_the_whole_banner(built: Path, edition: str, banner: str) -> None:
    pages = page_texts(built / edition / "long.pdf")
    assert len(pages) >= 2, "the brief should run to more than one page"
    # a word hyphenated at a line's end would not match
    missing = [number for number, text in enumerate(pages, 1) if squeeze(banner) not in squeeze(text)]
    assert missing == [], f"{edition}: pages without the whole banner: {missing} of {len(pages)}"


def test_a_long_banner_is_clear_of_the_running_header_and_the_text(built: Path) -> None:
    for number, page in enumerate(PdfReader(built / "partners" / "long.pdf").pages, 1):
        runs = text_lines(page)
        banner = [
            run
            for run in runs
            if run[2].isupper() and len(squeeze(run[2])) >= 8 and squeeze(run[2]) in squeeze(LONG_BANNER)
        ]
        assert banner, f"page {number}: no line of the banner"
        others = [run for run in runs if run not in banner]
        for baseline, size, text in banner:
            low, high = extent(baseline, size)
            for other_baseline, other_size, other in others:
                other_low, other_high = extent(other_baseline, other_size)
                gap = max(other_low - high, low - other_high)
                assert gap >= 2 * MM, f"page {number}: the banner's {text!r} is {gap / MM:.1f} mm from {other!r}"


def test_a_banner_of_the_longest_length_is_accepted_and_a_longer_one_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    for length, code in [(BANNER_LENGTH, 0), (BANNER_LENGTH + 1, 1)]:
        banner = ("Restricted " * 20)[: length - 1] + "."
        config = f'editions:\n  public: {{}}\n  restricted:\n    banner: "{banner}"\n'
        (root / "briefgen.yaml").write_text(config, encoding="utf-8")
        proc = run_briefgen("validate", cwd=root)
        assert_no_traceback(proc)
        assert proc.returncode == code, proc.stderr
    column = config.splitlines()[line_of(config, "banner:") - 1].index('"') + 1
    assert proc.stderr.splitlines() == [
        f"briefgen.yaml:{line_of(config, 'banner:')}:{column}: error: a banner is marked on every page, in a band of"
        f" three lines at most: keep it to {BANNER_LENGTH} characters (this one has {BANNER_LENGTH + 1})"
        " and put the rest in the brief"
    ]


@pytest.mark.parametrize("theme", ["brief", "memo"])
def test_a_copys_stamp_has_a_line_of_its_own_under_the_footer(project: Path, theme: str) -> None:
    (project / f"r-{theme}.csv").write_text(
        "name,organisation,email,edition\nBob Stone,Cabinet Office,bob@example.org,restricted\n", encoding="utf-8"
    )
    out = project / f"dist-{theme}"
    proc = run_briefgen(
        "distribute", "--recipients", f"r-{theme}.csv", "--theme", theme, "--out", out, "sources/long.yaml", cwd=project
    )
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    pages = PdfReader(out / "long" / "bob-stone.pdf").pages
    assert len(pages) >= 2
    for number, page in enumerate(pages, 1):
        runs = text_lines(page)
        [stamp] = {round(baseline, 1) for baseline, _, text in runs if "Cabinet Office" in text}
        # the footer's left item, the event line (the masthead's, on page 1, stands far higher)
        footer = min(baseline for baseline, _, text in runs if text.startswith("CSTO summit"))
        assert footer - stamp >= 4 * MM, (
            f"{theme} page {number}: the footer's baseline is {(footer - stamp) / MM:.1f} mm above the stamp's"
        )


FULL_TEXT = "Full text, every audience: holds parts some editions leave out"


@pytest.mark.parametrize("theme", ["brief", "memo"])
def test_the_full_text_of_an_assessment_with_kept_parts_is_marked_on_every_page(tmp_path: Path, theme: str) -> None:
    """Built without --edition, a brief holds what its editions leave out: each page says so. A brief with no
    part kept to an edition carries no mark."""
    judgment = "  - id: russia-stays-aloof\n"
    kept = long_sample().replace(judgment, judgment + "    audience: [restricted]\n", 1)
    assert kept != long_sample()
    root = make_project(tmp_path / "project", {"kept.yaml": kept, "plain.yaml": long_sample()})
    proc = run_briefgen("build", "--format", "pdf", "--theme", theme, cwd=root)
    assert proc.returncode == 0, proc.stderr
    pages = page_texts(root / "build" / "kept.pdf")
    assert len(pages) >= 2
    assert [n for n, text in enumerate(pages, 1) if squeeze(FULL_TEXT) not in squeeze(text)] == []
    assert all("every audience" not in text.casefold() for text in page_texts(root / "build" / "plain.pdf"))
