"""Stage 2, validate: every problem in a source is reported at the offending value, all at once."""

from pathlib import Path

import pytest
from helpers import SAMPLE, SAMPLE_TEXT, at, column_of, delete_lines, line_of, replace_line

from briefgen.errors import BriefgenError, Severity
from briefgen.load import load_source
from briefgen.pipeline import read_assessment
from briefgen.validate import validate

T = SAMPLE_TEXT
TITLE = line_of(T, "  title: ")
SUBTITLE = line_of(T, "  subtitle: ")
STANDFIRST = line_of(T, "  standfirst: ")
SERIES = line_of(T, "  series: Commentary")
PUBLISHED = line_of(T, "  published: 2018-11-16")
AUTHORS = line_of(T, "  authors:")
AFFILIATION = line_of(T, "      affiliation: ")
LANGUAGE = line_of(T, "  language: en")
BOTTOM_LINE = line_of(T, "bottom_line: ")
FIRST_JUDGMENT = line_of(T, "  - id: belarusian-successor")
SECOND_JUDGMENT = line_of(T, "  - id: russia-stays-aloof")
FIRST_LIKELIHOOD = line_of(T, "    likelihood: likely", FIRST_JUDGMENT)
FIRST_REFS = line_of(T, "    sources: [jorbenadze-2018]", FIRST_JUDGMENT)
FIRST_VERDICT = line_of(T, "    verdict: failure")
INF_REFS = line_of(T, "    sources: [jorbenadze-2018, inf-treaty-1987]")
FIRST_POSITION = line_of(T, "        - member: armenia")
SECOND_POSITION = line_of(T, "        - member: belarus", FIRST_POSITION)
FIRST_STANCE = line_of(T, "          stance: opposes", FIRST_POSITION)
FIRST_ATTENDEE_MEMBER = line_of(T, "      member: armenia")
POWER = line_of(T, "  power: russia")
FIRST_OVER = line_of(T, "      over: [armenia, kyrgyzstan, tajikistan]")
HORIZON = line_of(T, "  horizon: 12 months")
FIRST_POINTS_TO = line_of(T, "      points_to: belarusian-appointee")
EVENT_DATE = line_of(T, "  date: 2018-11-08")
FIRST_OUTCOME = line_of(T, "  - id: secretary-general-deadlock")
FIRST_EVIDENCE = line_of(T, "    evidence: ")
SOURCES = line_of(T, "sources:")
FIRST_SOURCE = line_of(T, "  - id: jorbenadze-2018")
SECOND_SOURCE = line_of(T, "  - id: inf-treaty-1987")
FIRST_RELIABILITY = line_of(T, "    reliability: B2")

MEMBERS = "armenia, belarus, kazakhstan, kyrgyzstan, russia, tajikistan"
LIKELIHOODS = "almost no chance, very unlikely, unlikely, roughly even chance, likely, very likely, almost certain"


def value_at(text: str, line: int, value: str) -> tuple[int, int]:
    return line, column_of(text, line, value)


def test_the_sample_is_valid(check) -> None:
    code, lines, stderr = check(T)
    assert (code, lines) == (0, [])
    assert "1 of 1 sources valid" in stderr


def test_the_python_api_returns_the_assessment() -> None:
    validated = validate(load_source(SAMPLE))
    assert validated.brief_id == "csto-astana-2018"
    assert validated.assessment.brief.published.isoformat() == "2018-11-16"
    assert [member.id for member in validated.assessment.event.members] == MEMBERS.split(", ")
    assert validated.warnings == ()
    assert read_assessment(SAMPLE).assessment == validated.assessment


def test_the_python_api_raises_with_located_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text(replace_line(T, SERIES, "Commentary", "NO"), encoding="utf-8")
    with pytest.raises(BriefgenError) as caught:
        read_assessment(path)
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.line, diagnostic.column, diagnostic.severity) == (SERIES, 11, Severity.ERROR)
    assert "quotes" in diagnostic.message


# --- keys -----------------------------------------------------------------------------------------


def test_unknown_key_points_at_the_key_with_a_suggestion(check) -> None:
    code, lines, _ = check(replace_line(T, SUBTITLE, "subtitle:", "subtitel:"))
    assert code == 1
    assert lines == [at(SUBTITLE, 3, "unknown key 'subtitel'; did you mean 'subtitle'?")]


def test_unknown_key_inside_a_list_item(check) -> None:
    code, lines, _ = check(replace_line(T, AFFILIATION, "affiliation:", "afiliation:"))
    assert code == 1
    assert lines == [at(AFFILIATION, 7, "unknown key 'afiliation'; did you mean 'affiliation'?")]


def test_unknown_key_without_a_close_match(check) -> None:
    code, lines, _ = check(replace_line(T, SERIES, "  series: Commentary", "  series: Commentary\n  colour: blue"))
    assert code == 1
    assert lines == [at(SERIES + 1, 3, "unknown key 'colour'")]


def test_missing_required_key_points_at_the_parent_mapping(check) -> None:
    code, lines, _ = check(delete_lines(T, SERIES, SERIES))
    assert code == 1
    assert lines == [at(TITLE, 3, "missing required key 'series' in 'brief'")]


def test_missing_top_level_key_points_at_the_document(check) -> None:
    end = line_of(T, "  invest in it.")
    code, lines, _ = check(delete_lines(T, BOTTOM_LINE, end))
    assert code == 1
    assert lines == [at(1, 1, "missing required key 'bottom_line'")]


def test_missing_key_in_a_list_item_points_at_the_item(check) -> None:
    code, lines, _ = check(delete_lines(T, FIRST_LIKELIHOOD, FIRST_LIKELIHOOD))
    assert code == 1
    assert lines == [at(FIRST_JUDGMENT, 5, "missing required key 'likelihood'")]


# --- types and YAML's implicit typing -------------------------------------------------------------


def test_wrong_type_is_reported_at_the_value(check) -> None:
    text = delete_lines(T, AUTHORS + 1, AUTHORS + 2)
    text = replace_line(text, AUTHORS, "  authors:", "  authors: Eurasia Security Desk")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(AUTHORS, 12, "input should be a valid list")]


@pytest.mark.parametrize(
    ("line", "old", "new", "kind"),
    [
        (SERIES, "Commentary", "NO", "a boolean"),
        (SERIES, "Commentary", "yes", "a boolean"),
        (HORIZON, "12 months", "1.10", "a number"),
        (HORIZON, "12 months", "12:30", "a number"),
        (SUBTITLE, SAMPLE_TEXT.split("\n")[SUBTITLE - 1].split(": ", 1)[1], "2018-11-16", "a date"),
        (FIRST_ATTENDEE_MEMBER, "armenia", "no", "a boolean"),
    ],
    ids=["NO", "yes", "1.10", "12:30", "date", "member-no"],
)
def test_implicit_typing_traps_say_to_quote_the_value(check, line: int, old: str, new: str, kind: str) -> None:
    text = replace_line(T, line, old, new)
    code, lines, _ = check(text)
    assert code == 1
    position = value_at(text, line, new)
    assert lines == [
        at(*position, f"input should be a valid string; YAML read '{new}' as {kind}: put it in quotes, \"{new}\"")
    ]


@pytest.mark.parametrize(
    ("edit", "line", "column", "expected"),
    [
        ("cohesion", line_of(T, "cohesion:"), 10, "needs a value"),
        ("keywords", line_of(T, "  keywords:"), 13, "input should be a valid list"),
        ("title", TITLE, 9, "needs a value"),
    ],
    ids=["empty-mapping", "boolean-for-a-list", "empty-title"],
)
def test_quoting_is_only_suggested_when_quotes_would_help(
    check, edit: str, line: int, column: int, expected: str
) -> None:
    # Quoting a value only helps where a string is wanted; "cohesion:" left empty needs its mapping, and
    # quoting an empty title ("") still leaves it empty.
    lines = T.split("\n")
    if edit == "cohesion":
        end = line_of(T, "leverage:") - 1
        text = "\n".join([*lines[: line - 1], "cohesion:", *lines[end - 1 :]])
    elif edit == "keywords":
        end = line_of(T, "    - Eurasia")
        text = "\n".join([*lines[: line - 1], "  keywords: no", *lines[end:]])
    else:
        text = replace_line(T, TITLE, lines[TITLE - 1], "  title:")
    code, found, _ = check(text)
    assert code == 1
    assert len(found) == 1, found
    assert found[0].startswith(at(line, column, "")), found
    assert expected in found[0]
    assert "put it in quotes" not in found[0], found[0]


def test_quoting_is_not_advised_where_the_quoted_text_would_still_be_wrong(tmp_path: Path) -> None:
    """0.3 read as a number is no likelihood quoted either: the error lists the likelihoods, nothing more."""
    source = tmp_path / "brief.yaml"
    source.write_text(SAMPLE_TEXT.replace("likelihood: likely", "likelihood: 0.3", 1), encoding="utf-8")
    with pytest.raises(BriefgenError) as caught:
        validate(load_source(source))
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.message.startswith("'0.3' is not one of: almost no chance, very unlikely")
    assert "quotes" not in diagnostic.message


@pytest.mark.parametrize(("text", "found"), [("- a\n- b\n", "a list"), ("brief: [1, 2]\n", "a list")])
def test_keys_where_a_list_stands_are_asked_for_in_plain_words(tmp_path: Path, text: str, found: str) -> None:
    source = tmp_path / "brief.yaml"
    source.write_text(text, encoding="utf-8")
    with pytest.raises(BriefgenError) as caught:
        validate(load_source(source))
    messages = [diagnostic.message for diagnostic in caught.value.diagnostics]
    assert f"expected keys with values (key: value lines), found {found}" in messages


def test_a_quoted_trap_is_fine(check) -> None:
    text = replace_line(T, SERIES, "Commentary", '"NO"')
    text = replace_line(text, HORIZON, "12 months", '"1.10"')
    code, lines, _ = check(text)
    assert (code, lines) == (0, [])


@pytest.mark.parametrize(
    ("line", "old", "new", "message"),
    [
        (FIRST_LIKELIHOOD, "likely", "likly", f"'likly' is not one of: {LIKELIHOODS}; did you mean 'likely'?"),
        (
            FIRST_VERDICT,
            "failure",
            "failed",
            "'failed' is not one of: success, mixed, failure; did you mean 'failure'?",
        ),
        (
            FIRST_STANCE,
            "opposes",
            "oppose",
            "'oppose' is not one of: supports, opposes, abstains, undeclared; did you mean 'opposes'?",
        ),
        (FIRST_LIKELIHOOD, "likely", "probable", f"'probable' is not one of: {LIKELIHOODS}"),
    ],
    ids=["likelihood", "verdict", "stance", "no-suggestion"],
)
def test_bad_enum_lists_the_choices_and_suggests(check, line: int, old: str, new: str, message: str) -> None:
    text = replace_line(T, line, old, new)
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(*value_at(text, line, new), message)]


@pytest.mark.parametrize("date", ["16/11/2018", "November 16, 2018", "2018-11"])
def test_bad_date(check, date: str) -> None:
    text = replace_line(T, PUBLISHED, "2018-11-16", date)
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(PUBLISHED, 14, "expected a date written as YYYY-MM-DD")]


@pytest.mark.parametrize(
    ("date", "reason"),
    [
        ("2019-02-30", "day is out of range for month"),
        ("2019-13-01", "month must be in 1..12"),
        ("0000-01-01", "year 0 is out of range"),
    ],
)
def test_a_quoted_impossible_date_gives_the_reason_not_the_format(check, date: str, reason: str) -> None:
    code, lines, _ = check(replace_line(T, PUBLISHED, "2018-11-16", f"'{date}'"))
    assert code == 1
    assert lines == [at(PUBLISHED, 14, f"'{date}' is not a date: {reason}")]


@pytest.mark.parametrize("grade", ["B7", "G2", "b2", "B22", "2B"])
def test_bad_admiralty_grade(check, grade: str) -> None:
    text = replace_line(T, FIRST_RELIABILITY, "B2", grade)
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(FIRST_RELIABILITY, 18, "expected an Admiralty grade: a letter A-F then a digit 1-6, e.g. B2")]


@pytest.mark.parametrize("bad_id", ["Belarusian-Successor", "belarusian_successor", "-successor"])
def test_bad_identifier(check, bad_id: str) -> None:
    text = replace_line(T, FIRST_JUDGMENT, "belarusian-successor", bad_id)
    code, lines, _ = check(text)
    assert code == 1
    message = "expected an id made of lower-case letters, digits and hyphens, e.g. 'inf-treaty'"
    assert lines == [at(FIRST_JUDGMENT, 9, message)]


def test_bad_language_tag_is_not_described_as_an_id(check) -> None:
    text = replace_line(T, LANGUAGE, "en", "English")
    code, lines, _ = check(text)
    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith(at(LANGUAGE, 13, ""))
    # a language tag is not one of the brief's ids: the message must not send the author to id rules
    assert "id made of" not in lines[0] and "inf-treaty" not in lines[0], lines[0]


# --- text and prose -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        "<b>six</b>",
        "<img src=x onerror=alert(1)>",
        "<!-- note -->",
        "</p>",
        '<a href="https://example.org/">six</a>',
        "<br/>",
        "<?php echo 1 ?>",
        "[<b>six</b>](https://example.org/)",
    ],
)
def test_raw_html_in_prose_is_refused(check, html: str) -> None:
    text = replace_line(T, STANDFIRST + 1, "The six leaders", f"The {html} six leaders")
    code, lines, _ = check(text)
    assert code == 1
    message = "raw HTML is not allowed in prose; use Markdown (*emphasis*, [link](https://...), - lists)"
    assert lines == [at(STANDFIRST, 15, message)]


def test_raw_html_in_prose_inside_a_list_item(check) -> None:
    evidence = line_of(T, "    evidence: >-")
    text = replace_line(T, evidence + 1, "Nazarbayev and", "Nazarbayev <em>and</em>")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [
        at(evidence, 15, "raw HTML is not allowed in prose; use Markdown (*emphasis*, [link](https://...), - lists)")
    ]


LINKS_ONLY_TO = "only http, https and mailto links are allowed"


@pytest.mark.parametrize(
    ("markdown", "href"),
    [
        ("[bad](javascript:alert(1))", "javascript:alert(1)"),
        ("[bad](JaVaScRiPt:alert(1))", "JaVaScRiPt:alert(1)"),
        ("[bad](java&#115;cript:alert(1))", "javascript:alert(1)"),
        ("[ftp](ftp://x.org/)", "ftp://x.org/"),
        ("[rel](other.html)", "other.html"),
        ("[root](/etc/passwd)", "/etc/passwd"),
        ("<ftp://x.org/>", "ftp://x.org/"),
        ("<javascript:alert(1)>", "javascript:alert(1)"),
    ],
    ids=[
        "javascript",
        "mixed-case",
        "entity",
        "ftp",
        "relative",
        "absolute-path",
        "autolink-ftp",
        "autolink-javascript",
    ],
)
def test_links_to_other_schemes_in_prose_are_refused(check, markdown: str, href: str) -> None:
    text = replace_line(T, BOTTOM_LINE + 1, "Astana exposed", f"{markdown} Astana exposed")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(BOTTOM_LINE, 14, f"link to '{href}': {LINKS_ONLY_TO}")]


def test_the_first_refused_link_of_many_is_named(check) -> None:
    bad = "[bad](javascript:alert(1)) and [ftp](ftp://x.org/) and [rel](other.html) ![img](file:///etc/passwd)"
    code, lines, _ = check(replace_line(T, BOTTOM_LINE + 1, "Astana exposed", f"{bad} Astana exposed"))
    assert code == 1
    assert lines == [at(BOTTOM_LINE, 14, f"link to 'javascript:alert(1)': {LINKS_ONLY_TO}")]


@pytest.mark.parametrize(
    "definition",
    ["See [the treaty][r].\n\n  [r]: javascript:alert(1)", "[r]: javascript:alert(1)"],
    ids=["used", "unused"],
)
def test_a_reference_to_another_scheme_in_prose_is_refused(check, definition: str) -> None:
    # unused, the definition would print as text, since the renderer refuses its link
    text = replace_line(T, BOTTOM_LINE, "bottom_line: >-", f"bottom_line: |-\n  {definition}\n")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(BOTTOM_LINE, 14, f"link to 'javascript:alert(1)': {LINKS_ONLY_TO}")]


def test_a_refused_link_nested_in_a_list_and_emphasis(check) -> None:
    evidence = line_of(T, "    evidence: >-")
    text = replace_line(T, evidence + 1, "Nazarbayev and", "- first\n      - Nazarbayev **[and](ftp://x.org/)**")
    text = replace_line(text, evidence, "evidence: >-", "evidence: |-")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(evidence, 15, f"link to 'ftp://x.org/': {LINKS_ONLY_TO}")]


@pytest.mark.parametrize(
    "image",
    [
        "![img](file:///etc/passwd)",
        "![map](https://example.org/map.png)",
        "[![map](https://x.org/m.png)](https://x.org/)",
    ],
)
def test_images_in_prose_are_refused(check, image: str) -> None:
    text = replace_line(T, BOTTOM_LINE + 1, "Astana exposed", f"{image} Astana exposed")
    code, lines, _ = check(text)
    assert code == 1
    message = "images are not allowed in prose; link to the image instead, e.g. [map](https://...)"
    assert lines == [at(BOTTOM_LINE, 14, message)]


@pytest.mark.parametrize(
    "markdown",
    [
        "[the report](https://example.org/csto?a=1&b=2)",
        "[archive](http://example.org/)",
        "[desk](mailto:desk@example.org)",
        "[shout](HTTPS://EXAMPLE.ORG/)",
        "<https://example.org/csto>",
        "<mailto:desk@example.org>",
        "<desk@example.org>",
        "*[emphasised](https://example.org/)*",
    ],
)
def test_links_to_allowed_schemes_in_prose_are_valid(check, markdown: str) -> None:
    text = replace_line(T, BOTTOM_LINE + 1, "Astana exposed", f"{markdown} Astana exposed")
    code, lines, _ = check(text)
    assert (code, lines) == (0, [])


def test_a_less_than_sign_in_prose_is_not_html(check) -> None:
    # "< half" is no tag in HTML; refusing it makes plain comparisons impossible to write.
    text = replace_line(T, STANDFIRST + 1, "The six leaders", "The six (< half of")
    code, lines, _ = check(text)
    assert (code, lines) == (0, [])


@pytest.mark.parametrize(
    "title",
    ['"United\\non arms control"', "|-\n    United\n    on arms control"],
    ids=["escaped-newline", "literal-block"],
)
def test_multi_line_text_in_a_single_line_field(check, title: str) -> None:
    text = replace_line(T, TITLE, T.split("\n")[TITLE - 1].split(": ", 1)[1], title)
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(TITLE, 10, "must be a single line; use a prose field for longer text")]


def test_bidirectional_controls_are_refused_in_text(check) -> None:
    text = replace_line(T, TITLE, "divided over", "divided \u202eover")
    code, lines, _ = check(text)
    assert code == 1
    message = "bidirectional control characters are not allowed: they can make text read differently"
    assert lines == [at(TITLE, 10, message)]


def test_bidirectional_controls_are_refused_in_prose_too(check) -> None:
    text = replace_line(T, STANDFIRST + 1, "The six leaders", "The six \u202eleaders")
    code, lines, _ = check(text)
    assert code == 1, "a bidi override in a prose field was accepted (it is refused in single-line text)"
    message = "bidirectional control characters are not allowed: they can make text read differently"
    assert lines == [at(STANDFIRST, 15, message)]


def test_a_control_character_written_as_an_escape_is_refused(check) -> None:
    """YAML refuses a raw one; a double-quoted escape (\\x07) still brings it in."""
    text = replace_line(T, TITLE, "divided over", "divided\\x07over")  # the title is double-quoted
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(TITLE, 10, "the control character U+0007 is not allowed; remove it")]


# --- every error at once --------------------------------------------------------------------------


def test_all_schema_errors_are_reported_at_once_sorted_by_line(check) -> None:
    text = replace_line(T, FIRST_RELIABILITY, "B2", "B7")
    text = replace_line(text, FIRST_LIKELIHOOD, "likely", "likly")
    text = replace_line(text, SERIES, "Commentary", "NO")
    text = replace_line(text, TITLE, "  title:", "  colour: blue\n  title:")  # pushes later lines down by one
    code, lines, stderr = check(text)
    assert code == 1
    assert lines == [
        at(TITLE, 3, "unknown key 'colour'"),
        at(SERIES + 1, 11, "input should be a valid string; YAML read 'NO' as a boolean: put it in quotes, \"NO\""),
        at(FIRST_LIKELIHOOD + 1, 17, f"'likly' is not one of: {LIKELIHOODS}; did you mean 'likely'?"),
        at(FIRST_RELIABILITY + 1, 18, "expected an Admiralty grade: a letter A-F then a digit 1-6, e.g. B2"),
    ]
    assert "0 of 1 sources valid" in stderr


def test_all_cross_check_errors_are_reported_at_once_sorted_by_line(check) -> None:
    text = replace_line(T, SECOND_SOURCE, "inf-treaty-1987", "jorbenadze-2018")  # duplicate source id
    text = replace_line(text, INF_REFS, ", inf-treaty-1987", "")  # keep every reference resolvable
    text = replace_line(text, FIRST_ATTENDEE_MEMBER, "armenia", "armenie")
    text = replace_line(text, FIRST_POINTS_TO, "belarusian-appointee", "compromise")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [
        at(FIRST_ATTENDEE_MEMBER, 15, "unknown member 'armenie'; did you mean 'armenia'?"),
        at(
            FIRST_POINTS_TO,
            18,
            "unknown scenario 'compromise'; known scenarios: belarusian-appointee, armenian-completes-term, "
            "prolonged-vacancy",
        ),
        at(SECOND_SOURCE, 9, f"duplicate id 'jorbenadze-2018' (first on line {FIRST_SOURCE})"),
    ]


def test_schema_and_cross_check_errors_are_reported_together(check) -> None:
    # One run should list every error in the file: a type error elsewhere must not hide a dangling reference.
    text = replace_line(T, FIRST_RELIABILITY, "B2", "B7")
    text = replace_line(text, FIRST_REFS, "jorbenadze-2018", "jorbenadze-2019")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [
        at(FIRST_REFS, 15, "unknown source 'jorbenadze-2019'; did you mean 'jorbenadze-2018'?"),
        at(FIRST_RELIABILITY, 18, "expected an Admiralty grade: a letter A-F then a digit 1-6, e.g. B2"),
    ]


def test_a_date_yaml_cannot_read_is_reported_with_every_other_error(check) -> None:
    text = replace_line(T, SERIES, "Commentary", "NO")
    text = replace_line(text, EVENT_DATE, "2018-11-08", "2018-11-31")
    text = replace_line(text, FIRST_LIKELIHOOD, "likely", "likley")
    text = replace_line(text, FIRST_EVIDENCE, "evidence", "evidense")
    text = replace_line(text, HORIZON, "12 months", "12:30")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [
        at(SERIES, 11, "input should be a valid string; YAML read 'NO' as a boolean: put it in quotes, \"NO\""),
        at(EVENT_DATE, 9, "YAML cannot read '2018-11-31' as a date: day is out of range for month"),
        at(FIRST_LIKELIHOOD, 17, f"'likley' is not one of: {LIKELIHOODS}; did you mean 'likely'?"),
        at(FIRST_OUTCOME, 5, "missing required key 'evidence'"),
        at(FIRST_EVIDENCE, 5, "unknown key 'evidense'; did you mean 'evidence'?"),
        at(HORIZON, 12, "input should be a valid string; YAML read '12:30' as a number: put it in quotes, \"12:30\""),
    ]


def test_a_date_yaml_cannot_read_in_a_text_field_is_reported_once_without_a_hint(check) -> None:
    """Kept by the loader for validation to report, it is still one error, as when the loader reported it."""
    text = replace_line(T, SUBTITLE, T.split("\n")[SUBTITLE - 1].split(": ", 1)[1], "2018-02-30")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(SUBTITLE, 13, "YAML cannot read '2018-02-30' as a date: day is out of range for month")]


# --- cross-checks ---------------------------------------------------------------------------------


def with_value_for_list(text: str, key: str, value: str) -> tuple[str, int]:
    """The text with the block under the line `key` (exactly that line) replaced by value, and the key's line."""
    lines = text.split("\n")
    start = lines.index(key)
    indent = len(key) - len(key.lstrip())
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent):
        end += 1
    return "\n".join([*lines[:start], f"{key} {value}", *lines[end:]]), start + 1


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("  members:", "six", "input should be a valid list"),
        ("  scenarios:", "six", "input should be a valid list"),
        ("sources:", "six", "input should be a valid list"),
        ("sources:", "[]", "needs at least 1 item"),
        ("  members:", "[]", "needs at least 2 items"),
    ],
    ids=["members", "scenarios", "sources", "no-sources", "no-members"],
)
def test_references_are_not_checked_against_a_list_of_ids_that_is_no_list(
    check, key: str, value: str, message: str
) -> None:
    """`members: six` is one error at its line, not one more for every position, lever and attendee."""
    text, line = with_value_for_list(T, key, value)
    code, found, _ = check(text)
    assert code == 1
    assert found == [at(line, len(key) + 2, message)]


def test_references_are_not_checked_against_a_list_with_an_item_without_an_id(check) -> None:
    first_member = line_of(T, "    - id: armenia")
    text = delete_lines(T, first_member, first_member)
    text = replace_line(text, first_member, "      name: Armenia", "    - name: Armenia")
    code, found, _ = check(text)
    assert code == 1
    assert found == [at(first_member, 7, "missing required key 'id'")]


def test_unknown_source_reference_with_suggestion(check) -> None:
    code, lines, _ = check(replace_line(T, FIRST_REFS, "jorbenadze-2018", "jorbenadze-2019"))
    assert code == 1
    assert lines == [at(FIRST_REFS, 15, "unknown source 'jorbenadze-2019'; did you mean 'jorbenadze-2018'?")]


def test_unknown_source_reference_lists_the_known_ones(check) -> None:
    code, lines, _ = check(replace_line(T, INF_REFS, "inf-treaty-1987", "smith-2020"))
    assert code == 1
    column = column_of(T, INF_REFS, "inf-treaty-1987")
    message = "unknown source 'smith-2020'; known sources: jorbenadze-2018, inf-treaty-1987"
    assert lines == [at(INF_REFS, column, message)]  # a failing source reports errors only, not warnings


def test_position_naming_a_non_member(check) -> None:
    code, lines, _ = check(replace_line(T, FIRST_POSITION, "armenia", "georgia"))
    assert code == 1
    assert lines == [at(FIRST_POSITION, 19, f"unknown member 'georgia'; known members: {MEMBERS}")]


def test_two_positions_of_one_member_on_an_issue(check) -> None:
    code, lines, _ = check(replace_line(T, SECOND_POSITION, "belarus", "armenia"))
    assert code == 1
    message = f"member 'armenia' already has a position on this issue (first on line {FIRST_POSITION})"
    assert lines == [at(SECOND_POSITION, 19, message)]


def test_duplicate_id_mentions_the_first(check) -> None:
    code, lines, _ = check(replace_line(T, SECOND_JUDGMENT, "russia-stays-aloof", "belarusian-successor"))
    assert code == 1
    assert lines == [at(SECOND_JUDGMENT, 9, f"duplicate id 'belarusian-successor' (first on line {FIRST_JUDGMENT})")]


def test_leverage_power_must_be_a_member(check) -> None:
    code, lines, _ = check(replace_line(T, POWER, "russia", "china"))
    assert code == 1
    assert lines == [at(POWER, 10, f"unknown member 'china'; known members: {MEMBERS}")]


def test_lever_target_must_be_a_member(check) -> None:
    text = replace_line(T, FIRST_OVER, "tajikistan]", "tajikstan]")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [
        at(*value_at(text, FIRST_OVER, "tajikstan"), "unknown member 'tajikstan'; did you mean 'tajikistan'?")
    ]


def test_indicator_pointing_to_an_unknown_scenario(check) -> None:
    code, lines, _ = check(replace_line(T, FIRST_POINTS_TO, "belarusian-appointee", "belarusian-appointe"))
    assert code == 1
    message = "unknown scenario 'belarusian-appointe'; did you mean 'belarusian-appointee'?"
    assert lines == [at(FIRST_POINTS_TO, 18, message)]


def test_published_before_the_event(check) -> None:
    code, lines, _ = check(replace_line(T, PUBLISHED, "2018-11-16", "2018-11-01"))
    assert code == 1
    assert lines == [at(PUBLISHED, 14, "the brief is dated before the event it assesses (2018-11-08)")]


def test_published_on_the_day_of_the_event_is_fine(check) -> None:
    code, lines, _ = check(replace_line(T, PUBLISHED, "2018-11-16", "2018-11-08"))
    assert (code, lines) == (0, [])


def test_an_unused_source_is_a_warning_only(check) -> None:
    code, lines, stderr = check(replace_line(T, INF_REFS, ", inf-treaty-1987", ""))
    assert code == 0
    assert lines == [at(SECOND_SOURCE, 9, "source 'inf-treaty-1987' is never cited", "warning")]
    assert "warning:" in stderr and "error:" not in stderr
    assert "1 of 1 sources valid" in stderr


def test_warnings_are_returned_by_the_api(tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text(replace_line(T, INF_REFS, ", inf-treaty-1987", ""), encoding="utf-8")
    [warning] = read_assessment(path).warnings
    assert warning.severity is Severity.WARNING
    assert (warning.line, warning.column) == (SECOND_SOURCE, 9)


@pytest.mark.parametrize(
    ("name", "renamed"),
    [("a#b", "a-b"), ("My Brief (v2)", "my-brief-v2"), ("First_Brief", "first-brief"), ("брифинг", "brifing")],
)
def test_a_file_name_that_makes_no_brief_id_is_refused_with_a_name_to_use(
    tmp_path: Path, name: str, renamed: str
) -> None:
    """The id names the outputs and the catalogue's links: 'a#b.html' would be a broken link."""
    source = tmp_path / f"{name}.yaml"
    source.write_text(SAMPLE_TEXT, encoding="utf-8")
    with pytest.raises(BriefgenError) as caught:
        validate(load_source(source))
    [diagnostic] = caught.value.diagnostics
    assert f"the file name makes the brief id '{name}'" in diagnostic.message
    assert diagnostic.message.endswith(f"rename it {renamed}.yaml")


@pytest.mark.parametrize("name", ["csto-astana-2018", "csto-astana-2018.ru", "b01"])
def test_ids_with_a_language_part_after_a_dot_are_brief_ids(tmp_path: Path, name: str) -> None:
    source = tmp_path / f"{name}.yaml"
    source.write_text(SAMPLE_TEXT, encoding="utf-8")
    assert validate(load_source(source)).brief_id == name
