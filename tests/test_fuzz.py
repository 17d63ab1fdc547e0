"""Property tests: no text makes the loader crash, and no field's text becomes markup in the HTML.

1. Any text, fed to the loader and the validator, either passes or raises BriefgenError with located
   diagnostics: never another exception. Texts come from `st.text()`, from YAML-ish fragments
   (indicators, anchors, tags, tabs, quotes, brackets, implicit-typing traps), and from the sample with
   such fragments spliced in, so that validation is reached as well as parsing.
2. Any string put into a single-line text field or a prose field of the sample either is refused
   (BriefgenError) or is rendered inertly: the HTML, parsed as a browser's tokenizer would, has no
   element nor attribute that came from the injected text. Every injected string carries a probe, an
   `<x-probe>` element or an `onprobe` attribute trying to break out of text or attribute context.
"""

import copy
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import SAMPLE_ID, SAMPLE_TEXT, make_project
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from briefgen.errors import BriefgenError
from briefgen.load import parse_source
from briefgen.pipeline import Format, Project, render_brief
from briefgen.validate import validate

FUZZ_PATH = Path("fuzz.yaml")

# --- 1. the loader and the validator -----------------------------------------------------------------

FRAGMENTS = [
    ":",
    ": ",
    "-",
    "- ",
    "? ",
    "&a ",
    "*a",
    "&a [x, x]",
    "[*a, *a]",
    "!!",
    "!!str ",
    "!!python/object/apply:os.system ",
    "!!binary ",
    "!custom ",
    "<<: ",
    "\t",
    " ",
    "  ",
    "'",
    '"',
    "\n",
    "\r\n",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "|",
    ">-",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "%TAG ! tag:example.org,2000:\n",
    "brief",
    "title",
    "sources",
    "id",
    "NO",
    "yes",
    "1.10",
    "12:30",
    "0x1F",
    "1e999",
    "~",
    "null",
    "2018-02-30",
    "2018-11-16",
    "\\x",
    "\\u202e",
    "\x00",
    "\x1b",
    "\x85",
    "\u2028",
    "\u202e",
    "\ufeff",
    "\U0001f600",
]
YAMLISH = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=40).map("".join)
SPLICED = st.tuples(
    st.integers(min_value=0, max_value=len(SAMPLE_TEXT)),
    st.integers(min_value=0, max_value=40),
    YAMLISH,
).map(lambda cut: SAMPLE_TEXT[: cut[0]] + cut[2] + SAMPLE_TEXT[cut[0] + cut[1] :])


def load_and_validate(text: str) -> None:
    """Parse and validate; return normally or raise BriefgenError whose diagnostics are well formed."""
    try:
        validate(parse_source(text, FUZZ_PATH))
    except BriefgenError as exc:
        assert exc.diagnostics, "a BriefgenError without diagnostics"
        # YAML breaks lines at U+0085, U+2028 and U+2029 too (whether it should is test_positions_are_editor_lines)
        last_line = len(re.split(r"\r\n|[\r\n\x85\u2028\u2029]", text)) + 1
        for diagnostic in exc.diagnostics:
            assert diagnostic.path == "fuzz.yaml", diagnostic
            assert diagnostic.message.strip(), diagnostic
            assert diagnostic.line is None or 1 <= diagnostic.line <= last_line, diagnostic
            assert diagnostic.column is None or diagnostic.column >= 1, diagnostic
            assert "\n" not in str(diagnostic) and "\r" not in str(diagnostic), f"not one line: {str(diagnostic)!r}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), YAMLISH, SPLICED))
def test_any_text_loads_or_is_reported(text: str) -> None:
    load_and_validate(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\ufeff",
        "&a\n",
        "*a",
        "? [a]\n: b\n",
        "? - a\n",
        "<<: {a: 1}\n",
        "a: !!binary xyz\n",
        "a: !!timestamp 2018-02-30\n",
        "a: !!int 0x\n",
        "a: !!float 1e999\n",
        "a: 1e999\n",
        "%YAML 1.1\n%YAML 1.1\n---\na\n",
        "%TAG ! tag:example.org,2000:\n---\n!x a\n",
        "[" * 10_000,
        "a:\n\t- b\n",
        "brief: \x85\n",
        "brief: '\u2028'\n",
    ],
)
def test_known_awkward_texts_load_or_are_reported(text: str) -> None:
    load_and_validate(text)


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029"], ids=["NEL", "LS", "PS"])
def test_odd_line_breaks_are_refused_where_an_editor_shows_them(separator: str) -> None:
    """Editors (and `grep -n`) break lines at LF, CR and CRLF only, YAML also at NEL, LS and PS.

    A title pasted from a word processor can hold U+2028; it is refused at the line and column an editor
    shows, so no position in the file can drift.
    """
    lines = SAMPLE_TEXT.split("\n")
    title = next(number for number, line in enumerate(lines) if line.startswith("  title: "))
    lines[title] = lines[title].replace("divided over", f"divided{separator}over")
    with pytest.raises(BriefgenError) as caught:
        validate(parse_source("\n".join(lines), FUZZ_PATH))
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.line, diagnostic.column) == (title + 1, lines[title].index(separator) + 1), str(diagnostic)
    assert f"U+{ord(separator):04X} is not allowed" in diagnostic.message


# --- 2. rendering injected text -----------------------------------------------------------------------

SAMPLE: dict[str, Any] = yaml.safe_load(SAMPLE_TEXT)

TEXT_FIELDS: list[tuple[str | int, ...]] = [
    ("brief", "title"),
    ("brief", "subtitle"),
    ("brief", "series"),
    ("brief", "authors", 0, "name"),
    ("brief", "authors", 0, "affiliation"),
    ("brief", "keywords", 0),
    ("event", "name"),
    ("event", "organisation", "name"),
    ("event", "organisation", "abbreviation"),
    ("event", "members", 0, "name"),
    ("event", "members", 0, "leader"),
    ("event", "location"),
    ("event", "attendees", 0, "name"),
    ("event", "attendees", 0, "role"),
    ("outcomes", 0, "title"),
    ("outcomes", 0, "actors", 0),
    ("cohesion", "issues", 0, "title"),
    ("cohesion", "issues", 0, "positions", 0, "note"),
    ("leverage", "levers", 0, "instrument"),
    ("outlook", "horizon"),
    ("outlook", "scenarios", 0, "title"),
    ("outlook", "indicators", 0, "signal"),
    ("sources", 0, "title"),
    ("sources", 0, "author"),
    ("sources", 1, "publisher"),
]
PROSE_FIELDS: list[tuple[str | int, ...]] = [
    ("brief", "standfirst"),
    ("bottom_line",),
    ("key_judgments", 0, "statement"),
    ("outcomes", 0, "significance"),
    ("outcomes", 0, "evidence"),
    ("cohesion", "assessment"),
    ("cohesion", "issues", 0, "description"),
    ("leverage", "assessment"),
    ("leverage", "levers", 0, "note"),
    ("outlook", "assessment"),
    ("outlook", "scenarios", 0, "description"),
]

PROBES = [
    "<x-probe>",
    "<x-probe onprobe=1>",
    '"><x-probe>',
    "'><x-probe>",
    '" onprobe="1',
    "' onprobe='1",
    '" onprobe="1" x="',
    "</title><x-probe>",
    "</style><x-probe>",
    "</script><x-probe>",
    "</textarea><x-probe>",
    "<!--<x-probe>-->",
    "--><x-probe>",
    "<![CDATA[<x-probe>]]>",
    "{{ '<x-probe>' | safe }}",
    '{{ "<x-probe>" | safe }}',
    "{% raw %}<x-probe>{% endraw %}",
    "&lt;x-probe&gt;",
    "&#60;x-probe&#62;",
    "\\<x-probe\\>",
    "`<x-probe>`",
    '[a](https://example.org "\\" onprobe=\\"1")',
    '[a](https://example.org/" onprobe="1)',
    "[a](https://example.org/'onprobe='1)",
    '[a](<https://example.org/"onprobe="1>)',
    "*<x-probe>*",
    "- <x-probe>",
]
NOISE = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
        st.sampled_from(list("<>&\"'{}%#*_[]()`\\!-")),
    ),
    max_size=20,
)
INJECTED = st.tuples(NOISE, st.sampled_from(PROBES), NOISE, st.sampled_from(["", "{{", "{%", "}}", "%}"])).map(
    lambda parts: parts[3] + parts[0] + parts[1] + parts[2]
)


class _Probed(HTMLParser):
    """Records any element or attribute that could only have come from a probe."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "x-probe":
            self.found.append(f"<{tag}> element")
        self.found.extend(f"{name}= attribute on <{tag}>" for name, _ in attrs if name in ("onprobe", "x-probe"))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == "x-probe":
            self.found.append(f"</{tag}> end tag")


def probes_in(document: str) -> list[str]:
    parser = _Probed()
    parser.feed(document)
    parser.close()
    return parser.found


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("fuzz"), sources={})


def render_with(root: Path, at: tuple[str | int, ...], value: str) -> str | None:
    """The sample's HTML with one field set to value, or None when briefgen refuses the value."""
    data = copy.deepcopy(SAMPLE)
    target = data
    for key in at[:-1]:
        target = target[key]
    target[at[-1]] = value
    path = root / "sources" / f"{SAMPLE_ID}.yaml"
    path.write_text(yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10**6), "utf-8")
    try:
        rendered = render_brief(path, Project(root), [Format.HTML])
    except BriefgenError as exc:
        assert all(diagnostic.line for diagnostic in exc.diagnostics), exc
        return None
    return rendered.outputs[Format.HTML].decode("utf-8")


def test_the_unchanged_sample_renders_without_probes(fuzz_project: Path) -> None:
    html = render_with(fuzz_project, ("brief", "series"), SAMPLE["brief"]["series"])
    assert html is not None
    assert probes_in(html) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.sampled_from(TEXT_FIELDS), value=INJECTED)
def test_text_fields_never_become_markup(fuzz_project: Path, at: tuple[str | int, ...], value: str) -> None:
    html = render_with(fuzz_project, at, value)
    event("refused" if html is None else "rendered")
    if html is not None:
        assert probes_in(html) == [], f"{'.'.join(map(str, at))} = {value!r} became markup"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.sampled_from(PROSE_FIELDS), value=INJECTED)
def test_prose_fields_never_become_markup(fuzz_project: Path, at: tuple[str | int, ...], value: str) -> None:
    html = render_with(fuzz_project, at, value)
    event("refused" if html is None else "rendered")
    if html is not None:
        assert probes_in(html) == [], f"{'.'.join(map(str, at))} = {value!r} became markup"


@pytest.mark.parametrize("probe", PROBES)
@pytest.mark.parametrize("at", [("brief", "title"), ("bottom_line",)], ids=["title", "bottom_line"])
def test_every_probe_in_a_text_and_a_prose_field(fuzz_project: Path, at: tuple[str | int, ...], probe: str) -> None:
    html = render_with(fuzz_project, at, f"Probe {probe} end")
    if html is not None:
        assert probes_in(html) == [], f"{probe!r} became markup"


# --- 3. libyaml and PyYAML's own parser read every text alike -----------------------------------------


def _outcome(text: str, with_libyaml: bool) -> tuple[object, ...]:
    """What parse_source makes of text, with or without libyaml: the data and positions, or the errors."""
    saved, yaml.__with_libyaml__ = yaml.__with_libyaml__, with_libyaml
    try:
        document = parse_source(text, FUZZ_PATH)
    except BriefgenError as exc:
        return ("refused", [str(diagnostic) for diagnostic in exc.diagnostics])
    finally:
        yaml.__with_libyaml__ = saved
    return ("read", document.data, document.spans)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML is built without libyaml here")
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), YAMLISH, SPLICED))
@example("|#")  # a block scalar's header and a comment with no space between
@example("a: >-#\n  x\n")
def test_libyaml_and_pyyaml_read_every_text_alike(text: str) -> None:
    assert _outcome(text, with_libyaml=True) == _outcome(text, with_libyaml=False)
