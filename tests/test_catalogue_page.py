"""The catalogue page a build writes (build/index.html): one entry per brief, newest first under its year,
a count, and a filter by words, series and language that a reader drives through the page's address.

The filter is a script, so its tests load the page in headless Chromium and read the document back."""

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from helpers import REPO, SAMPLE_TEXT, html_text, make_project, run_briefgen

RUSSIAN_TEXT = (REPO / "sources" / "csto-astana-2018.ru.yaml").read_text(encoding="utf-8")

# brief id: (title, series, published, language)
BRIEFS = {
    "a": ("Arms control after Astana", "Commentary", "2018-11-16", "en"),
    "b": ("Secretariat rotation stalls", "Eurasia Notes", "2019-03-02", "en"),
    "c": ("Observers at the table", "Eurasia Notes", "2019-07-20", "en"),
    "d": ("Border incidents in the Ferghana valley", "Security Papers", "2018-12-09", "en"),
    "e": ("Ротация секретариата", "Eurasia Notes", "2019-01-15", "ru"),
    "f": ("Exercises and budgets", "Commentary", "2020-02-28", "en"),
    "g": ("Наблюдатели за столом", "Commentary", "2020-06-01", "ru"),
}


def _source(title: str, series: str, published: str, language: str) -> str:
    text = RUSSIAN_TEXT if language == "ru" else SAMPLE_TEXT
    text = re.sub(r"(?m)^  title: .*$", f'  title: "{title}"', text, count=1)
    text = re.sub(r"(?m)^  series: .*$", f'  series: "{series}"', text, count=1)
    return re.sub(r"(?m)^  published: .*$", f"  published: {published}", text, count=1)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built project of seven briefs in three series and two languages; its index.html."""
    root = make_project(
        tmp_path_factory.mktemp("catalogue"), {f"{brief}.yaml": _source(*fields) for brief, fields in BRIEFS.items()}
    )
    proc = run_briefgen("build", "--format", "html", "--jobs", "1", cwd=root)
    assert proc.returncode == 0, proc.stderr
    return root / "build" / "index.html"


def _titles(document: str, visible_only: bool = False) -> list[str]:
    """The titles of the entries, in page order; with visible_only, of those the filter left shown."""
    articles = re.findall(r"<article([^>]*)>(.*?)</article>", document, re.DOTALL)
    return [
        html_text(re.search(r"<h3>.*?</h3>", body, re.DOTALL)[0]).text
        for attributes, body in articles
        if not (visible_only and re.search(r"\bhidden\b", attributes))
    ]


def test_entries_come_newest_first_under_their_years(catalogue: Path) -> None:
    document = catalogue.read_text(encoding="utf-8")
    newest_first = sorted(BRIEFS.values(), key=lambda fields: fields[2], reverse=True)
    assert _titles(document) == [title for title, *_ in newest_first]
    assert re.findall(r'<h2 class="year">(\d+)</h2>', document) == ["2020", "2019", "2018"]


def test_the_page_counts_briefs_and_series(catalogue: Path) -> None:
    count = re.search(r'<p class="count">(.*?)</p>', catalogue.read_text(encoding="utf-8"), re.DOTALL)[1]
    assert html_text(count).text == "7 briefs · 3 series"


def test_the_filter_offers_every_series_and_language(catalogue: Path) -> None:
    document = catalogue.read_text(encoding="utf-8")
    series = re.search(r'<select name="series">(.*?)</select>', document, re.DOTALL)[1]
    assert re.findall(r"<option value=\"([^\"]*)\">", series)[1:] == ["Commentary", "Eurasia Notes", "Security Papers"]
    languages = re.search(r'<select name="language">(.*?)</select>', document, re.DOTALL)[1]
    assert re.findall(r'<option value="(\w+)">(.*?)</option>', languages) == [("en", "English"), ("ru", "Russian")]


def _in_chromium(page: Path, fragment: str, profile: Path) -> str:
    """The document Chromium holds once the page has loaded at page#fragment, its scripts run."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "the catalogue's filter tests need Chromium (Debian package chromium; make test installs it)"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
    flags += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
    address = f"{page.as_uri()}#{fragment}"
    proc = subprocess.run(
        [chromium, *flags, f"--user-data-dir={profile}", "--dump-dom", address],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    ("fragment", "shown"),
    [
        ("", set(BRIEFS)),
        ("series=Eurasia%20Notes", {"b", "c", "e"}),
        ("language=ru", {"e", "g"}),
        ("series=Commentary&language=en", {"a", "f"}),
        (f"words={quote('ROTATION stalls')}", {"b"}),  # every word, in any case
        (f"words={quote('ротация')}", {"e"}),
        ("series=Security%20Papers&words=rotation", set()),
        ("words=Khachaturov", {"a", "b", "c", "d", "f"}),  # in the bottom line, after its teaser ends
    ],
)
def test_the_filter_shows_the_briefs_the_address_asks_for(
    catalogue: Path, tmp_path: Path, fragment: str, shown: set[str]
) -> None:
    document = _in_chromium(catalogue, fragment, tmp_path / "profile")
    assert '<form class="filter" role="search">' in document  # shown once the script runs
    assert sorted(_titles(document, visible_only=True)) == sorted(BRIEFS[brief][0] for brief in shown)
    status = html_text(re.search(r'<p class="shown".*?</p>', document, re.DOTALL)[0]).text
    if shown == set(BRIEFS):
        assert status == ""
    elif shown:
        assert status == f"Showing {len(shown)} of {len(BRIEFS)}"
    else:
        assert status == "No brief matches."
        assert "<section" in document and not re.search(r"<section(?![^>]*hidden)[^>]*>", document)


def test_a_short_list_has_no_filter(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"a.yaml": SAMPLE_TEXT})
    assert run_briefgen("build", "--format", "html", cwd=root).returncode == 0
    document = (root / "build" / "index.html").read_text(encoding="utf-8")
    assert "<form" not in document and "<script" not in document
    assert html_text(re.search(r'<p class="count">.*?</p>', document, re.DOTALL)[0]).text == "1 brief"


def test_a_russian_project_lists_its_briefs_in_russian(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "project", {"a.yaml": SAMPLE_TEXT, "b.yaml": RUSSIAN_TEXT.replace("2018-11-16", "2018-11-17")}
    )
    (root / "briefgen.yaml").write_text("language: ru\n", encoding="utf-8")
    proc = run_briefgen("build", cwd=root)
    assert proc.returncode == 0, proc.stderr
    document = (root / "build" / "index.html").read_text(encoding="utf-8")
    text = html_text(document).text
    assert "Аналитические записки" in text and "2 записки · 2 серии" in text
    assert re.findall(r"PDF · \d+ с\.", text) and "pp." not in text


def test_an_edition_the_config_adds_is_named_as_a_label_starts(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"a.yaml": SAMPLE_TEXT})
    (root / "briefgen.yaml").write_text("editions:\n  public: {}\n  ministers: {}\n", encoding="utf-8")
    proc = run_briefgen("build", "--format", "html", "--edition", "public,ministers", cwd=root)
    assert proc.returncode == 0, proc.stderr
    builds = re.search(
        r'<ul class="builds">(.*?)</ul>', (root / "build" / "index.html").read_text(encoding="utf-8"), re.DOTALL
    )
    assert html_text(builds[1]).text == "Ministers edition HTML Public edition HTML"


def test_a_bottom_line_shows_as_whole_sentences(catalogue: Path) -> None:
    """The entry shows the bottom line's opening sentence whole, with no ellipsis after its full stop; the
    page still holds all of it, for the filter."""
    document = catalogue.read_text(encoding="utf-8")
    summaries = [html_text(found).text for found in re.findall(r'<p class="summary">.*?</p>', document, re.DOTALL)]
    english = "Astana exposed a Collective Security Treaty Organization that lines up behind Moscow"
    russian = "Саммит в Астане показал Организацию Договора о коллективной безопасности"
    assert len(summaries) == len(BRIEFS)
    for summary in summaries:
        assert summary.startswith((english, russian)), summary
        assert summary.endswith("участниками.") or summary.endswith("smaller members."), summary
    assert document.count("Khachaturov") == 5  # the rest of each English bottom line, where the filter reads it


@pytest.mark.parametrize(
    ("bottom_line", "teaser"),
    [
        ("A. Lukashenko met the U.S. envoy. " + "More talk " * 40, "A. Lukashenko met the U.S. envoy. More talk"),
        ("Talks went on " * 30 + "and ended.", "Talks went on Talks went on"),
    ],
)
def test_a_bottom_line_without_a_sentence_end_in_reach_is_cut_after_a_word(
    tmp_path: Path, bottom_line: str, teaser: str
) -> None:
    """When no sentence ends in the first 150 to 300 characters (an initial's full stop is no end), the
    teaser stops after a word, with an ellipsis."""
    text = re.sub(r"(?m)^bottom_line: >-?\n(  .*\n)+", f"bottom_line: {bottom_line.strip()!r}\n", SAMPLE_TEXT)
    assert bottom_line.strip() in text
    root = make_project(tmp_path / "project", {"a.yaml": text})
    proc = run_briefgen("build", "--format", "html", cwd=root)
    assert proc.returncode == 0, proc.stderr
    document = (root / "build" / "index.html").read_text(encoding="utf-8")
    summary = html_text(re.search(r'<p class="summary">.*?</p>', document, re.DOTALL)[0]).text
    assert summary.startswith(teaser)
    assert summary.endswith("…") and not summary.endswith(" …")
    assert 150 < len(summary) <= 300
    assert summary.removesuffix("…").split()[-1] in bottom_line.split()  # a whole word
