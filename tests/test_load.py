"""Stage 1, load: YAML problems are reported at their line and column, never as a crash."""

import re
from pathlib import Path

import pytest
import yaml
from helpers import SAMPLE, SAMPLE_TEXT, SHOWN, at, column_of, line_of, replace_line

from briefgen.errors import BriefgenError
from briefgen.load import MAX_NESTING, MAX_SOURCE_BYTES, load_source
from briefgen.pipeline import read_assessment

SERIES = line_of(SAMPLE_TEXT, "  series: Commentary")
TITLE = line_of(SAMPLE_TEXT, "  title: ")
SUBTITLE = line_of(SAMPLE_TEXT, "  subtitle: ")
PUBLISHED = line_of(SAMPLE_TEXT, "  published: ")
FIRST_REFS = line_of(SAMPLE_TEXT, "    sources: [jorbenadze-2018]")
COLON_IN_VALUE = "': ' inside a value starts a key; if it is part of the text, put the whole value in quotes"
INDENTED_KEY = "this key is indented deeper than the key above it; indent it like the keys beside it"


def test_the_sample_loads_with_positions() -> None:
    document = load_source(SAMPLE)
    assert document.brief_id == "csto-astana-2018"
    assert document.data["brief"]["series"] == "Commentary"
    span = document.span(("brief", "series"))
    assert (span.line, span.column) == (SERIES, column_of(SAMPLE_TEXT, SERIES, "Commentary"))
    assert (span.key_line, span.key_column) == (SERIES, 3)
    judgment = document.span(("key_judgments", 0, "sources", 0))
    assert (judgment.line, judgment.column) == (FIRST_REFS, column_of(SAMPLE_TEXT, FIRST_REFS, "jorbenadze-2018"))


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML is built without libyaml here")
def test_the_sample_is_read_by_libyaml_not_by_pyyaml_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path is taken: PyYAML's scanner in Python never runs for a sound source."""

    def scanning_in_python(*args: object) -> None:
        raise AssertionError("PyYAML's Python scanner ran")

    expected = yaml.safe_load(SAMPLE_TEXT)
    monkeypatch.setattr(yaml.scanner.Scanner, "fetch_more_tokens", scanning_in_python)
    assert load_source(SAMPLE).data == expected


@pytest.mark.parametrize("text", ["brief:\n  title:\n", "brief:\n  title:\n  series: x\n"])
def test_an_empty_value_is_located_after_its_key(tmp_path: Path, text: str) -> None:
    """As PyYAML places it; libyaml would place it where the next token starts."""
    path = tmp_path / "brief.yaml"
    path.write_text(text, encoding="utf-8")
    span = load_source(path).span(("brief", "title"))
    assert (span.line, span.column, span.implicit) == (2, 9, "empty (null)")


def test_a_missing_value_is_located_at_its_nearest_enclosing_value() -> None:
    document = load_source(SAMPLE)
    assert document.span(("brief", "no-such-key")) == document.span(("brief",))


def test_implicitly_typed_plain_scalars_are_remembered(tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text(replace_line(SAMPLE_TEXT, SERIES, "Commentary", "NO"), encoding="utf-8")
    document = load_source(path)
    assert document.data["brief"]["series"] is False
    span = document.span(("brief", "series"))
    assert (span.raw, span.implicit) == ("NO", "a boolean")
    assert document.span(("brief", "title")).implicit is None  # quoted: a string as written


def test_the_api_raises_briefgen_error_with_located_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text(replace_line(SAMPLE_TEXT, SERIES, "  series", "\tseries"), encoding="utf-8")
    with pytest.raises(BriefgenError) as caught:
        load_source(path)
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.line, diagnostic.column, diagnostic.severity) == (SERIES, 1, "error")


# --- syntax ---------------------------------------------------------------------------------------


def test_yaml_syntax_error_is_reported_at_line_and_column(check) -> None:
    text = replace_line(SAMPLE_TEXT, SUBTITLE, "summit showed", "summit: showed")
    code, lines, _ = check(text)
    assert code == 1
    column = column_of(text, SUBTITLE, ": showed")
    assert lines == [at(SUBTITLE, column, f"YAML syntax error: {COLON_IN_VALUE}")]


@pytest.mark.parametrize(
    ("text", "place", "message"),
    [
        ("brief:\n  title: x\n   subtitle: y\n", (3, 4), INDENTED_KEY),
        ("title: Agreement: on tariff cuts\n", (1, 17), COLON_IN_VALUE),
        (
            'brief:\n  title: "Agreement\n  series: x\n',
            (2, 10),
            "this quoted value is never closed; add the closing quote",
        ),
        (
            "a: 1\n---\nb: 2\n",
            (2, 1),
            "a source holds one YAML document; remove this '---' line and what follows, or merge it in",
        ),
        (
            "a:\n  - x\n  y: 1\n",
            (3, 3),
            "this line is indented unlike the lines above it (in the block begun on line 2); line it up with them",
        ),
        (
            "a: {b: 1\nc: 2\n",
            (2, 2),
            "the { mapping begun on line 1 is not closed; add '}', or a ',' between its items",
        ),
    ],
    ids=[
        "key-indented-too-deep",
        "colon-in-value",
        "unclosed-quote",
        "second-document",
        "misaligned-line",
        "open-mapping",
    ],
)
def test_common_yaml_mistakes_are_told_in_plain_words(
    tmp_path: Path, text: str, place: tuple[int, int], message: str
) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BriefgenError) as caught:
        load_source(path)
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.line, diagnostic.column, diagnostic.message) == (*place, f"YAML syntax error: {message}")


def test_unclosed_flow_sequence_is_reported_where_yaml_notices(check) -> None:
    text = replace_line(SAMPLE_TEXT, FIRST_REFS, "[jorbenadze-2018]", "[jorbenadze-2018")
    code, lines, _ = check(text)
    assert code == 1
    assert len(lines) == 1
    # YAML notices at the next line's ':' (the sequence begun on FIRST_REFS is still open)
    column = column_of(text, FIRST_REFS + 1, ":")
    assert lines[0].startswith(at(FIRST_REFS + 1, column, "YAML syntax error: "))
    assert f"on line {FIRST_REFS}" in lines[0]


def test_tab_indentation_gets_a_plain_message(check) -> None:
    code, lines, _ = check(replace_line(SAMPLE_TEXT, SERIES, "  series", "\tseries"))
    assert code == 1
    assert lines == [at(SERIES, 1, "YAML syntax error: a tab character cannot indent YAML; indent with spaces")]


@pytest.mark.parametrize("written", ["title", '"title"', "'title'"])
def test_duplicate_key_points_at_the_second_and_names_the_first(check, written: str) -> None:
    text = replace_line(SAMPLE_TEXT, SERIES, "  series: Commentary", f"  series: Commentary\n  {written}: Again")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(SERIES + 1, 3, f"duplicate key 'title' (first given on line {TITLE})")]


def test_duplicate_key_inside_a_list_item(check) -> None:
    likelihood = line_of(SAMPLE_TEXT, "    likelihood: likely")
    text = replace_line(SAMPLE_TEXT, likelihood, "likelihood: likely", "likelihood: likely\n    likelihood: unlikely")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(likelihood + 1, 5, f"duplicate key 'likelihood' (first given on line {likelihood})")]


def test_every_duplicate_key_is_reported(check) -> None:
    text = replace_line(SAMPLE_TEXT, SERIES, "  series: Commentary", "  series: Commentary\n  title: Again")
    location = line_of(text, "  location: ")
    text = replace_line(text, location, "  location:", "  location: Minsk\n  location:")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [
        at(SERIES + 1, 3, f"duplicate key 'title' (first given on line {TITLE})"),
        at(location + 1, 3, f"duplicate key 'location' (first given on line {location})"),
    ]


def test_anchors_are_refused(check) -> None:
    text = replace_line(SAMPLE_TEXT, SERIES, "Commentary", "&series Commentary")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(SERIES, 11, "anchors (&series) are not allowed; write the value out")]


def test_aliases_are_refused(check) -> None:
    text = replace_line(SAMPLE_TEXT, FIRST_REFS, "[jorbenadze-2018]", "*refs")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [
        at(FIRST_REFS, column_of(text, FIRST_REFS, "*refs"), "aliases (*refs) are not allowed; write the value out")
    ]


def test_a_billion_laughs_never_expands(check) -> None:
    bomb = (
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]\n"
    )
    code, lines, _ = check(bomb)
    assert code == 1
    assert lines == [at(1, 4, "anchors (&a) are not allowed; write the value out")]


@pytest.mark.parametrize(
    "tag",
    ["!!python/object:os.system", "!!python/object/apply:os.system", "!!python/name:os.system", "!vault"],
    ids=["python-object", "python-apply", "python-name", "custom"],
)
def test_a_non_standard_tag_on_a_scalar_is_refused(check, tag: str) -> None:
    text = replace_line(SAMPLE_TEXT, SERIES, "Commentary", f"{tag} Commentary")
    code, lines, _ = check(text)
    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith(at(SERIES, 11, ""))
    assert tag.lstrip("!").split(":")[0] in lines[0]


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("brief:", "brief: !!python/object:argparse.Namespace", 1),
        ("  keywords:", "  keywords: !!python/object/apply:os.system", line_of(SAMPLE_TEXT, "  keywords:")),
        ("  authors:", "  authors: !custom", line_of(SAMPLE_TEXT, "  authors:")),
    ],
    ids=["python-object-on-mapping", "python-apply-on-sequence", "custom-tag-on-sequence"],
)
def test_a_non_standard_tag_on_a_mapping_or_sequence_is_refused(check, old: str, new: str, line: int) -> None:
    # load.py promises "non-standard tags are errors"; a tag on a collection must not be silently dropped.
    text = replace_line(SAMPLE_TEXT, line, old, new)
    code, lines, _ = check(text)
    assert code == 1, "a source with a python/custom tag on a mapping or sequence was accepted"
    tag = new.split()[-1]
    assert len(lines) == 1
    assert lines[0].startswith(at(line, column_of(text, line, tag), ""))


def test_multiple_documents_are_refused(check) -> None:
    text = SAMPLE_TEXT.rstrip("\n") + "\n---\nbrief: {}\n"
    separator = line_of(text, "---")
    code, lines, _ = check(text)
    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith(at(separator, 1, "YAML syntax error: "))
    assert "a source holds one YAML document" in lines[0]


def test_one_explicit_document_is_fine(check) -> None:
    code, lines, _ = check("---\n" + SAMPLE_TEXT.rstrip("\n") + "\n...\n")
    assert (code, lines) == (0, [])


@pytest.mark.parametrize("content", ["", "\n\n", "# nothing but a comment\n", "   \n"])
def test_empty_source(check, content: str) -> None:
    code, lines, _ = check(content)
    assert code == 1
    assert lines == [at(1, 1, "source is empty")]


def test_invalid_utf8_names_the_line(check) -> None:
    raw = SAMPLE_TEXT.encode("utf-8")
    broken = raw.replace(b"divided over itself", b"divided \xff\xfe itself", 1)
    code, lines, _ = check(broken)
    assert code == 1
    assert len(lines) == 1
    assert re.fullmatch(rf"{re.escape(SHOWN)}:{TITLE}:\d+: error: source is not valid UTF-8", lines[0]), lines


def test_a_utf8_byte_order_mark_is_accepted(check) -> None:
    code, lines, _ = check(b"\xef\xbb\xbf" + SAMPLE_TEXT.encode("utf-8"))
    assert (code, lines) == (0, [])


def test_crlf_line_endings_keep_line_numbers(check) -> None:
    text = replace_line(SAMPLE_TEXT, SERIES, "Commentary", "NO").replace("\n", "\r\n")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [
        at(SERIES, 11, "input should be a valid string; YAML read 'NO' as a boolean: put it in quotes, \"NO\"")
    ]


def test_a_file_over_the_size_cap_is_refused_before_parsing(check) -> None:
    body = SAMPLE_TEXT.encode("utf-8")
    padding = MAX_SOURCE_BYTES + 1 - len(body)
    content = body + b"#" * (padding - 1) + b"\n"
    assert len(content) == MAX_SOURCE_BYTES + 1
    code, lines, _ = check(content)
    assert code == 1
    assert lines == [f"{SHOWN}: error: source is {MAX_SOURCE_BYTES + 1:,} bytes; the limit is {MAX_SOURCE_BYTES:,}"]


def test_a_file_exactly_at_the_size_cap_is_accepted(check) -> None:
    body = SAMPLE_TEXT.encode("utf-8")
    content = body + b"#" * (MAX_SOURCE_BYTES - len(body) - 1) + b"\n"
    assert len(content) == MAX_SOURCE_BYTES
    code, lines, _ = check(content)
    assert (code, lines) == (0, [])


@pytest.mark.parametrize(
    ("key", "key_starts"),
    [
        ("[series]: Commentary", "["),
        ("{series: x}: Commentary", "{"),
        ("? [a, b]\n  : Commentary", "[a"),
        ("<<: {series: Commentary}", "<<"),
    ],
)
def test_keys_must_be_plain_names(check, key: str, key_starts: str) -> None:
    text = replace_line(SAMPLE_TEXT, SERIES, "series: Commentary", key)
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(SERIES, column_of(text, SERIES, key_starts), "keys must be plain names")]


def test_deep_nesting_is_refused_where_it_gets_too_deep(check) -> None:
    keywords = line_of(SAMPLE_TEXT, "  keywords:")
    text = replace_line(SAMPLE_TEXT, keywords, "  keywords:", "  keywords: " + "[" * 60 + "]" * 60 + "\n  x:")
    first = column_of(text, keywords, "[")
    # the root mapping is level 1, brief's mapping level 2, so the first '[' is level 3
    column = first + MAX_NESTING - 2
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [at(keywords, column, f"nesting deeper than {MAX_NESTING} levels")]


def test_very_deep_nesting_does_not_exhaust_the_stack(check) -> None:
    code, lines, _ = check("brief: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert code == 1
    assert lines == [at(1, 8 + MAX_NESTING - 1, f"nesting deeper than {MAX_NESTING} levels")]


# --- values YAML cannot build: located errors, not crashes ----------------------------------------


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f"], ids=["NUL", "BEL", "ESC", "DEL"])
def test_control_characters_are_reported_not_crashed_on(check, character: str) -> None:
    text = replace_line(SAMPLE_TEXT, TITLE, "divided over", f"divided{character}over")
    code, lines, stderr = check(text)
    assert code == 1, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith(at(TITLE, column_of(text, TITLE, character), "")), lines


@pytest.mark.parametrize(
    ("line", "old", "new"),
    [
        (PUBLISHED, "2018-11-16", "2018-02-30"),
        (PUBLISHED, "2018-11-16", "2018-13-01"),
        (PUBLISHED, "2018-11-16", "2018-11-16 25:00:00"),
        (SERIES, "Commentary", "1" + "0" * 5000),
    ],
    ids=["day-out-of-range", "month-out-of-range", "hour-out-of-range", "huge-integer"],
)
def test_values_yaml_cannot_construct_are_reported_at_their_position(check, line: int, old: str, new: str) -> None:
    text = replace_line(SAMPLE_TEXT, line, old, new)
    code, lines, stderr = check(text)
    assert code == 1, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith(at(line, column_of(text, line, new), "")), lines


def test_a_value_yaml_cannot_construct_does_not_stop_the_load(tmp_path: Path) -> None:
    """It is kept for validation, which reports it with the other errors of the file."""
    path = tmp_path / "brief.yaml"
    text = replace_line(SAMPLE_TEXT, PUBLISHED, "2018-11-16", "2018-02-30")
    path.write_text(replace_line(text, SERIES, "Commentary", "NO"), encoding="utf-8")
    load_source(path)
    with pytest.raises(BriefgenError) as caught:
        read_assessment(path)
    assert [(d.line, d.column, d.message) for d in caught.value.diagnostics] == [
        (SERIES, 11, "input should be a valid string; YAML read 'NO' as a boolean: put it in quotes, \"NO\""),
        (PUBLISHED, 14, "YAML cannot read '2018-02-30' as a date: day is out of range for month"),
    ]


def test_a_problem_that_stops_the_load_is_reported_with_the_values_yaml_cannot_construct(check) -> None:
    text = replace_line(SAMPLE_TEXT, PUBLISHED, "2018-11-16", "2018-02-30")
    text = replace_line(text, SERIES, "  series: Commentary", "  series: Commentary\n  title: Again")
    code, lines, _ = check(text)
    assert code == 1
    assert lines == [
        at(SERIES + 1, 3, f"duplicate key 'title' (first given on line {TITLE})"),
        at(PUBLISHED + 1, 14, "YAML cannot read '2018-02-30' as a date: day is out of range for month"),
    ]
