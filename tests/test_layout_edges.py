"""Layout at the edges of the content: long tables, many members, long masthead words, sources with URLs.

Two projects built once: one with the default brand and a brief of long tables, a long series and a
source with a date and a URL; one with a long brand name and a logo and a brief of ten members.
"""

import copy
import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import SAMPLE_TEXT, assert_no_traceback, html_text, make_project, pdf_pages_text, pdf_text, run_briefgen

LONG_SERIES = "Occasional Papers in Strategic and International Security Studies (Second Series)"
LONG_BRAND = "The Royal Institute of Very Long Names for Strategic, International and Security Studies of London"
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
    '<rect width="120" height="40" fill="#1b3a5c"/></svg>\n'
)
TEN = [
    "China",
    "India",
    "Iran",
    "Kazakhstan",
    "Kyrgyzstan",
    "Pakistan",
    "Russia",
    "Tajikistan",
    "Uzbekistan",
    "Belarus",
]
STANCES = ["supports", "opposes", "abstains", "undeclared"]
AUTHORS = [{"name": f"Analyst {name}", "affiliation": "Institute of Regional Studies"} for name in "ABCDEF"]
LONG_SCENARIO = "A Belarusian secretary general by compromise after a year of quarrels over whose turn it is"


def long_source() -> str:
    """The sample with 40 outcomes, 20 contested issues, a long series, six authors, a long scenario title
    and a source with a date and a URL."""
    data = yaml.safe_load(SAMPLE_TEXT)
    data["brief"]["series"] = LONG_SERIES
    data["brief"]["authors"] = AUTHORS
    data["outlook"]["scenarios"][0]["title"] = LONG_SCENARIO
    outcome = data["outcomes"][0]
    data["outcomes"] = [
        {**copy.deepcopy(outcome), "id": f"outcome-{i}", "title": f"Outcome number {i}", "verdict": "failure"}
        for i in range(40)
    ]
    issue = data["cohesion"]["issues"][0]
    data["cohesion"]["issues"] = [
        {**copy.deepcopy(issue), "id": f"issue-{i}", "title": f"Contested question {i} of the summit"}
        for i in range(20)
    ]
    data["sources"][0]["date"] = dt.date(2018, 11, 12)
    data["sources"][0]["url"] = "https://example.org/commentary/2018/csto-summit"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def wide_source() -> str:
    """The sample with ten members, a position for each on every issue, every lever over the nine but Russia."""
    data = yaml.safe_load(SAMPLE_TEXT)
    members = [{"id": name.lower(), "name": name, "leader": f"Leader of {name}"} for name in TEN]
    data["event"]["members"] = members
    data["event"]["attendees"] = [
        {"name": m["leader"], "role": f"Head of state of {m['name']}", "member": m["id"]} for m in members
    ]
    for j, issue in enumerate(data["cohesion"]["issues"]):
        issue["positions"] = [
            {"member": m["id"], "stance": STANCES[(j + k) % 4], "note": f"Note for {m['name']}"}
            for k, m in enumerate(members)
        ]
    for lever in data["leverage"]["levers"]:
        lever["over"] = [m["id"] for m in members if m["id"] != "russia"]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


class Built:
    def __init__(self, root: Path, name: str) -> None:
        self.pdf = root / "build" / f"{name}.pdf"
        self.html = (root / "build" / f"{name}.html").read_text(encoding="utf-8")


def build(root: Path) -> None:
    proc = run_briefgen("build", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def long(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = make_project(tmp_path_factory.mktemp("long"), {"long.yaml": long_source()})
    build(root)
    return Built(root, "long")


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = make_project(tmp_path_factory.mktemp("wide"), {"wide.yaml": wide_source()})
    (root / "assets").mkdir()
    (root / "assets" / "logo.svg").write_text(LOGO, encoding="utf-8")
    (root / "briefgen.yaml").write_text(f'brand:\n  name: "{LONG_BRAND}"\n  logo: assets/logo.svg\n', encoding="utf-8")
    build(root)
    return Built(root, "wide")


# --- long tables (finding 7) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "caption", "first_row"),
    [
        ("40 outcomes assessed", "Scorecard of the CSTO summit", "Outcome number 0"),
        ("the issues that divided the members.", "Where the members stood", "Contested question 0"),
    ],
)
def test_a_table_longer_than_a_page_starts_on_the_page_of_its_caption(
    long: Built, before: str, caption: str, first_row: str
) -> None:
    pages = pdf_pages_text(long.pdf)
    [page] = [page for page in pages if caption in page]
    assert before in page, f"the table after {caption!r} is moved to a page of its own"
    assert first_row in page.split(caption, 1)[1], f"the table after {caption!r} starts on a later page"


def test_a_short_table_stays_whole_with_its_caption(long: Built) -> None:
    pages = pdf_pages_text(long.pdf)
    [page] = [page for page in pages if "levers and where they bite" in page]
    assert "Agenda-setting within the CSTO" in page.split("levers and where they bite", 1)[1]
    assert "Levers applied" in page


# --- sources (finding 14) --------------------------------------------------------------------------


def test_a_sources_date_and_url_are_spaced_in_pdf_and_html(long: Built) -> None:
    # (the PDF may break the URL after a slash: that is a line break, not a missing space)
    expected = re.compile(r"12 November 2018\. https://example\.org/ ?commentary/2018/csto-summit")
    assert expected.search(pdf_text(long.pdf))
    assert re.search(r'2018</time>\.\s+<a class="source-url"', long.html)


# --- masthead (finding 13) -------------------------------------------------------------------------


Word = tuple[float, float, float, float, str]
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def pages_words(pdf: Path, first: int = 1, last: int = 0) -> list[list[Word]]:
    """Each page's words, from page first to page last (0: the end), with their boxes (xMin, yMin, xMax,
    yMax, text), from pdftotext -bbox."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(first), "-l", str(last), str(pdf), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return [
        [(float(a), float(b), float(c), float(d), text) for a, b, c, d, text in WORD.findall(page)]
        for page in out.split("<page ")[1:]
    ]


def page_words(pdf: Path, page: int) -> list[Word]:
    return pages_words(pdf, page, page)[0]


def test_a_long_series_keeps_clear_of_the_brand(long: Built) -> None:
    words = page_words(long.pdf, 1)
    brand = min((word for word in words if word[4] == "briefgen"), key=lambda word: word[1])
    series = [word for word in words if word[4].isupper() and word[1] < brand[3] + 30 and word[4] != "CSTO"]
    assert {"OCCASIONAL", "(SECOND", "SERIES)"} <= {word[4] for word in series}
    beside = [word for word in series if word[1] < brand[3] and word[3] > brand[1]]
    assert beside, "the series' first line is not beside the brand"
    assert max(word[2] for word in beside) + 10 <= brand[0], "the series runs into the brand"


def test_a_long_brand_with_a_logo_leaves_the_series_whole(wide: Built) -> None:
    words = page_words(wide.pdf, 1)
    assert "COMMENTARY" in [word[4] for word in words], "the series is broken to make room for the brand"
    brand = [word for word in words if word[4] in LONG_BRAND.split()][:10]
    [series] = [word for word in words if word[4] == "COMMENTARY"]
    assert all(word[0] >= series[2] + 10 for word in brand if word[1] < series[3] + 20)


# --- two things side by side on paper, without flex (print.css) --------------------------------------

A4_RIGHT_MARGIN = 595.28 - 22 * 72 / 25.4  # where the text column ends, in points


def overlap(a: Word, b: Word) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def same_line(a: Word, b: Word) -> bool:
    """Whether b's middle is within a's height (words of different sizes on one line, not the next)."""
    return a[1] < (b[1] + b[3]) / 2 < a[3]


def page_with(pdf: Path, word: str) -> list[Word]:
    """The words of the first page that has this word."""
    return next(words for words in pages_words(pdf) if word in [w[4] for w in words])


def test_a_byline_of_six_authors_keeps_its_date_on_the_right_clear_of_them(long: Built) -> None:
    words = page_words(long.pdf, 1)
    authors = [w for w in words if w[4].strip(",") in {"Analyst", "Institute", "Regional", "Studies", *"ABCDEF"}]
    assert len({round(w[1]) for w in authors}) >= 2, "six authors should take more than one line"
    [published] = [w for w in words if w[4] == "Published"]
    date = [w for w in words if same_line(w, published) and w[0] >= published[0]]
    assert [w[4] for w in date] == ["Published", "16", "November", "2018"]
    assert abs(date[-1][2] - A4_RIGHT_MARGIN) < 1, "the date does not end at the right margin"
    assert not [(a, d) for a in authors for d in date if overlap(a, d)], "the date runs into the authors"
    lines = [w for w in words if min(a[1] for a in authors) <= w[1] <= max(a[1] for a in authors)]
    hyphenated = [w[4] for w in lines if w[4].endswith(("-", "\u2010"))]  # the printer's hyphen is U+2010
    assert not hyphenated, "a name or an affiliation is hyphenated"


def test_a_long_scenario_title_wraps_beside_its_likelihood(long: Built) -> None:
    words = page_with(long.pdf, "whose")
    [likely] = [w for w in words if w[4] == "LIKELY,"]
    first_line = [w for w in words if same_line(w, likely) and w[2] <= likely[0]]
    assert [w[4] for w in first_line][:3] == ["A", "Belarusian", "secretary"]
    [whose] = [w for w in words if w[4] == "whose"]
    assert whose[1] > max(w[1] for w in first_line) + 5, "the long title should wrap under its first line"
    assert max(w[2] for w in first_line) + 10 <= likely[0], "the title runs into its likelihood"
    [scale_end] = [w for w in words if w[4] == "100%" and abs(w[1] - likely[3]) < 3]  # the scale's 100% mark
    assert abs(scale_end[2] - A4_RIGHT_MARGIN) < 1, "the likelihood does not end at the right margin"


def test_a_source_of_two_lines_hangs_its_number_in_the_margin(long: Built) -> None:
    words = page_with(long.pdf, "Intermediate-Range")
    [start] = [w for w in words if w[4] == "Treaty" and w[0] < 150]
    [number] = [w for w in words if w[4] == "2" and same_line(w, start) and w[2] < start[0]]
    below = [w for w in words if w[1] > start[3] and w[4] in {"Soviet", "Socialist", "Their", "Shorter-Range"}]
    second = min(below, key=lambda w: w[1])
    assert abs(min(w[0] for w in words if same_line(w, second)) - start[0]) < 1, "the lines do not start together"
    assert number[2] + 5 <= start[0], "the number is not clear of the text"


# --- many members (finding 6) -----------------------------------------------------------------------


def test_ten_members_names_are_never_split_and_stances_never_run_together(wide: Built) -> None:
    text = pdf_text(wide.pdf)
    for name in TEN:
        words = {word.strip(".,;:()") for word in text.split()}
        fragments = {word for word in words if word != name and name.startswith(word) and len(word) > 3}
        assert not fragments, f"{name} is split: {fragments}"
    assert not re.search(r"(supports|opposes|abstains|undeclared|moderate|strong|weak){2}", text)


def test_a_compact_matrix_explains_its_marks_and_keeps_its_words_for_the_screen(wide: Built) -> None:
    text = pdf_text(wide.pdf)
    assert "Key: + supports, – opposes, 0 abstains, ? undeclared." in text
    assert "Key: + weak, ++ moderate, +++ strong." in text
    [matrix] = [table for table in html_text(wide.html).tables if "Where the members stood" in table]
    assert "supports" in matrix and "undeclared" in matrix


# --- a new user's varied sources (report 3, finding 17) ---------------------------------------------

NINE = TEN[:9]
WORDS = [
    "summit",
    "budget",
    "treaty",
    "alliance",
    "pressure",
    "deterrence",
    "rotation",
    "negotiation",
    "secretariat",
    "framework",
]
LONG_TITLE = " ".join(WORDS[i % 10].capitalize() if i == 0 else WORDS[(i * 3) % 10] for i in range(22)) + "."
LONG_ORGANISATION = (
    "Directorate-General for Neighbourhood and Enlargement Negotiations, European Commission, Brussels, "
    "Belgium, Rue de la Loi 200, Office of the Deputy Director for Eastern Partnership Affairs"
)
MM = 72 / 25.4


def sentences(n: int, start: int = 0) -> str:
    return " ".join(" ".join(WORDS[(start + i * 7 + k) % 10] for k in range(14)).capitalize() + "." for i in range(n))


def edges_source() -> str:
    """A long title, a long bottom line and first judgment, nine members, eight contested issues of a
    table that fits on a page, a lever whose name ends in a full stop and a source title in a question mark."""
    data = yaml.safe_load(wide_source())
    members = data["event"]["members"][:9]
    data["event"]["members"] = members
    data["event"]["attendees"] = data["event"]["attendees"][:9]
    data["brief"]["title"] = LONG_TITLE
    data["bottom_line"] = sentences(8)
    data["key_judgments"][0]["statement"] = sentences(6, 3)
    data["outcomes"] = data["outcomes"][:3]  # so that the cohesion matrix begins below the middle of a page
    data["cohesion"]["assessment"] = sentences(3, 5)
    issue = data["cohesion"]["issues"][0]
    data["cohesion"]["issues"] = [
        {
            **copy.deepcopy(issue),
            "id": f"question-{i}",
            "title": f"Contested question {i} of the summit",
            "positions": [copy.deepcopy(p) for p in issue["positions"] if p["member"] in NINE_IDS],
        }
        for i in range(8)
    ]
    for lever in data["leverage"]["levers"]:
        lever["over"] = [m for m in lever["over"] if m in NINE_IDS]
    data["leverage"]["levers"][0]["instrument"] = "Trade border veto."
    data["sources"][0]["title"] = "Is the CSTO a mixed picture of cohesion?"
    data["sources"][0].pop("date", None)
    data["sources"][0].pop("publisher", None)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


NINE_IDS = [name.lower() for name in NINE]


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = make_project(tmp_path_factory.mktemp("edges"), {"edges.yaml": edges_source()})
    build(root)
    return Built(root, "edges")


def test_no_full_stop_is_added_after_one_the_text_already_has(edges: Built) -> None:
    text = pdf_text(edges.pdf)
    assert "Trade border veto. " in text
    assert "cohesion?" in text
    assert not re.search(r"\w\.\.(?!\.)|\?\.", text), re.findall(r".{30}(?:\w\.\.|\?\.).{10}", text)


def test_the_running_header_is_one_line_with_the_title_shortened(edges: Built) -> None:
    for page in (2, 3):
        header = [word for word in page_words(edges.pdf, page) if word[3] < 24 * MM]
        assert header, f"page {page} has no running header"
        lines = {round(word[1]) for word in header}
        assert len(lines) == 1, f"page {page}: the running header takes {len(lines)} lines"
        assert any(word[4].endswith("…") for word in header), "the long title is not shortened with an ellipsis"


@pytest.mark.parametrize("bottom_line", [9, 10, 11])
def test_a_long_first_judgment_starts_on_page_one(tmp_path: Path, bottom_line: int) -> None:
    """Under a long title and bottom line the key judgments begin on page 1, their first one breaking
    across the pages, rather than move whole to page 2 and leave the foot of page 1 blank."""
    data = yaml.safe_load(SAMPLE_TEXT)
    data["brief"]["title"] = LONG_TITLE
    data["bottom_line"] = sentences(bottom_line)
    data["key_judgments"][0]["statement"] = sentences(8, 3)
    root = make_project(tmp_path, {"judged.yaml": yaml.safe_dump(data, allow_unicode=True, sort_keys=False)})
    proc = run_briefgen("render", "sources/judged.yaml", "-o", "judged.pdf", cwd=root)
    assert proc.returncode == 0, proc.stderr
    first = pdf_pages_text(root / "judged.pdf")[0]
    assert "KEY JUDGMENTS" in first.upper(), "the key judgments leave the foot of page 1 blank"
    assert first.upper().split("KEY JUDGMENTS", 1)[1].count(" ") > 20, "only the heading of the panel is on page 1"


@pytest.mark.parametrize(
    ("heading", "caption"), [("Cohesion", "Where the members stood"), ("Leverage", "levers and where they bite")]
)
def test_a_table_starts_on_the_page_of_its_section_rather_than_leave_it_blank(
    edges: Built, heading: str, caption: str
) -> None:
    pages = pdf_pages_text(edges.pdf)
    [at] = [n for n, page in enumerate(pages) if caption in page]
    [begun] = [n for n, page in enumerate(pages) if re.search(rf"(^| ){heading} [A-Z]", page)]
    if begun == at:
        return
    # moved to the next page: allowed only when the section's page is nearly full
    body = [word for word in page_words(edges.pdf, begun + 1) if 24 * MM < word[1] < (297 - 22) * MM]
    bottom = max(word[3] for word in body)
    assert bottom > (297 - 22 - 30) * MM, (
        f"the {caption!r} table leaves page {begun + 1} blank below {bottom / MM:.0f} mm"
    )


def test_a_long_stamp_is_one_line_inside_the_margins_with_its_copy_id_whole(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = make_project(tmp_path_factory.mktemp("stamp"), {"brief.yaml": SAMPLE_TEXT})
    (root / "r.csv").write_text(
        f'name,organisation,email\nAyşe Smith,"{LONG_ORGANISATION}",a@example.org\n', encoding="utf-8"
    )
    proc = run_briefgen("distribute", "sources/brief.yaml", "--recipients", "r.csv", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    [copy_pdf] = (root / "dist").rglob("*.pdf")
    words = page_words(copy_pdf, 1)
    start = max(n for n, word in enumerate(words) if word[4] == "Prepared")
    end = next(n for n in range(start, len(words)) if re.fullmatch(r"[0-9A-F]{12}", words[n][4]))
    stamp = words[start : end + 1]  # from its first word to the copy id: the footer's words may follow
    copy_id = stamp[-1]
    label = stamp[stamp.index(copy_id) - 1]
    assert label[4] == "Copy" and abs(label[1] - copy_id[1]) < 1, "the copy id is parted from its label"
    assert len({round(word[1]) for word in stamp}) == 1, "the stamp runs to more than one line"
    assert "Smith," in [word[4] for word in stamp]
    assert min(word[0] for word in stamp) >= 15 * MM and max(word[2] for word in stamp) <= (210 - 15) * MM
    assert max(word[3] for word in stamp) <= (297 - 8) * MM, "the stamp is where office printers clip"


@pytest.mark.parametrize("word", ["щщщщщщщщ", "indeterminateness"])
def test_a_verdict_word_stays_in_its_column_of_the_scorecard(tmp_path: Path, word: str) -> None:
    """Eight of the widest capitals fit the verdict column the scorecard is laid out with; a longer word
    widens the column rather than run into the outcome beside it."""
    root = make_project(tmp_path, {"brief.yaml": SAMPLE_TEXT})
    (root / "templates" / "labels").mkdir(parents=True)
    verdicts = {"success": "success", "mixed": "mixed", "failure": word}
    (root / "templates" / "labels" / "en.yaml").write_text(yaml.safe_dump({"verdict": verdicts}), encoding="utf-8")
    proc = run_briefgen("render", "sources/brief.yaml", "-o", "brief.pdf", cwd=root)
    assert proc.returncode == 0, proc.stderr
    words = page_with(root / "brief.pdf", word.upper())
    label = next(w for w in words if w[4] == word.upper())  # the first: the scorecard's row, before the outcomes
    outcome = next(w for w in words if w[4] == "No" and same_line(label, w))
    assert label[2] + 5 <= outcome[0], f"the verdict {word.upper()} runs into the outcome beside it"
