"""A catalogue of hostile and broken inputs, each run end to end through `briefgen build`.

Every case is one row of CASES: the files it writes into a fresh project (which always also holds a
copy of the good sample, `sources/csto-astana-2018.yaml`), the options of the build, the error lines
expected on stderr (regular expressions matched against whole lines) and the exit code. For each
case the test checks that

1. exactly the expected error lines are printed (place and message), and nothing else says `error:`;
2. the exit code is the expected one;
3. briefgen reported the problem rather than crashing (no "Traceback");
4. the good sibling was still built: its outputs exist and the manifest lists them;
5. the hostile brief left no output, no manifest entry, and the build folder holds no temporary or
   stray files (and nothing else appeared in the project);
6. no secret reached any output: a token planted in a file OUTSIDE the project, and the first line
   of /etc/passwd, are searched for in every file of build/, PDFs decompressed stream by stream.

Cases that must build (an escaped `<script>` title, a literal `{{ 7*7 }}`) check their HTML instead
of 5; project-level cases (an unusable output folder, a locked one, bad usage, a config naming files
outside the project, a source in sources/ linking out of it) refuse the whole build, sibling included.
Template and CSS cases use a small project entry template (tests/catalogue/templates/) that includes
`hostile/<brief id>.html.j2` only for the hostile brief, so its sibling still builds. Each case runs
with one job (in briefgen's own process, fast); test_the_catalogue_in_one_parallel_build then runs
every failing source case at once through the default worker processes and expects the same lines.
"""

import contextlib
import http.server
import json
import os
import re
import resource
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import pytest
from helpers import (
    SAMPLE_ID,
    SAMPLE_TEXT,
    child_env,
    column_of,
    folder_lock,
    html_head,
    html_text,
    line_of,
    make_project,
    pdf_text,
    replace_line,
    replace_once,
    write_source,
)
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from briefgen.load import MAX_NESTING, MAX_SOURCE_BYTES

DATA = Path(__file__).resolve().parent / "catalogue"
BUILD_EXTRAS = {"index.html"}  # besides the outputs and manifest.json, what a build may write into its folder
ETC_PASSWD_LINE = b"root:x:0:0"
TIMEOUT = 120  # seconds; generous on purpose, no case may come near it
# Each case renders in briefgen's own process, which is fast; test_the_catalogue_in_one_parallel_build runs
# the cases again together through the default pool of worker processes.
ONE_JOB = ("--jobs", "1")

TITLE = line_of(SAMPLE_TEXT, "  title: ")
TITLE_TEXT = "United on arms control, divided over itself: the CSTO after Astana"
SUBTITLE = line_of(SAMPLE_TEXT, "  subtitle: ")
SERIES = line_of(SAMPLE_TEXT, "  series: Commentary")
PUBLISHED = line_of(SAMPLE_TEXT, "  published: ")
KEYWORDS = line_of(SAMPLE_TEXT, "  keywords:")
MEMBER_NAME = line_of(SAMPLE_TEXT, "      name: Armenia")
LOCATION = line_of(SAMPLE_TEXT, "  location: ")
HORIZON = line_of(SAMPLE_TEXT, "  horizon: ")
BOTTOM_LINE = line_of(SAMPLE_TEXT, "bottom_line: >-")
BOTTOM_LINE_FIRST = "  Astana exposed a Collective Security Treaty Organization that lines up"


# ---------------------------------------------------------------------------
# the table


@dataclass(frozen=True)
class Link:
    """A symlink the case plants in the project; SECRET stands for the secret file outside the project."""

    target: str


@dataclass(frozen=True)
class Fifo:
    """A named pipe the case plants in the project (nobody ever writes to it)."""


SECRET = "<the secret outside the project>"
Content = str | bytes | Link | Fifo


@dataclass(frozen=True)
class Case:
    name: str  # the test id, and the hostile brief's id: it is written to sources/<name>.yaml
    source: Content | None  # the hostile source; None for a project-level case without one
    expect: tuple[str, ...]  # regexes, each matching one whole stderr line; SRC stands for sources/<name>.yaml
    code: int = 1
    formats: str = "html"
    files: dict[str, Content] = field(default_factory=dict)  # other files, by project-relative path
    args: tuple[str, ...] = ()
    builds: bool = False  # the hostile brief is expected to build; `check` then looks at its outputs
    sibling_builds: bool = True  # False where the whole build is refused (unusable output folder, ...)
    check: Callable[["Outcome"], None] | None = None
    hold_lock: bool = False  # hold the build folder's lock while briefgen runs
    timeout: float = TIMEOUT
    memory_limit: int | None = None  # bytes of address space for the child, where a case may exhaust memory
    group: str | None = None  # cases of a group share one project and one build (same formats and options)

    def patterns(self) -> list[str]:
        return [for_source(pattern, self.name) for pattern in self.expect]


SRC = "\x00SRC\x00"  # in an expected pattern: the hostile source's path, escaped


def for_source(pattern: str, brief_id: str) -> str:
    """An expected pattern with SRC replaced by the path of the brief's source."""
    return pattern.replace(SRC, re.escape(f"sources/{brief_id}.yaml"))


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def at(line: int | None, column: int | None, message: str, path: str = SRC) -> str:
    """An expected error line about the hostile source (or path), with an exact message."""
    return at_re(line, column, re.escape(message), path)


def at_re(line: int | None, column: int | None, message: str, path: str = SRC) -> str:
    """An expected error line whose message is a regex."""
    place = "".join(f":{part}" for part in (line, column) if part is not None)
    return (path if path == SRC else re.escape(path)) + re.escape(f"{place}: error: ") + message


def refused(what: str) -> str:
    """The error of a brief whose PDF asked for a resource the fetcher refuses, naming it."""
    return at_re(None, None, refused_message(what))


def refused_message(what: str) -> str:
    """The message refusing a resource, naming it, as a regex."""
    return "resource refused: .*" + re.escape(what) + ".*"


def sample_edit(line: int, old: str, new: str, text: str = SAMPLE_TEXT) -> str:
    return replace_line(text, line, old, new)


def before_bottom_line(prefix: str) -> str:
    """The sample with prefix put at the start of the bottom line (a prose field)."""
    return replace_once(SAMPLE_TEXT, BOTTOM_LINE_FIRST, "  " + prefix + " " + BOTTOM_LINE_FIRST.lstrip())


def template_case(name: str, body: str = "", head: str = "", files: dict[str, Content] | None = None):
    """The files of a template case: the catalogue's entry template and the hostile brief's partials."""
    written: dict[str, Content] = {"templates/brief.html.j2": data("templates/brief.html.j2")}
    if body:
        written[f"templates/hostile/{name}.html.j2"] = body
    if head:
        written[f"templates/hostile/{name}.head.html.j2"] = head
    return written | (files or {})


# --- checks for the cases that build ----------------------------------------------------------------


class _Elements(HTMLParser):
    """Every start tag, with its attributes, as a browser's tokenizer would see it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(document: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(document)
    parser.close()
    return parser.tags


def check_script_title(outcome: "Outcome") -> None:
    html = outcome.hostile_html()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not [tag for tag, _ in elements(html) if tag == "script"]
    assert html_head(html).title.strip() == "<script>alert(1)</script>"
    for page in outcome.extra_pages():
        assert not [tag for tag, _ in elements(page.read_text(encoding="utf-8")) if tag == "script"], page.name


def check_template_injection(outcome: "Outcome") -> None:
    html = outcome.hostile_html()
    title = html_head(html).title
    assert "{{ 7*7 }}" in title, title
    assert "49" not in title, title
    assert "__class__.__mro__" in title, title
    text = html_text(html).text
    assert "{% include" in text, "template syntax in prose was not printed literally"
    assert "{{ config }}" in text


HOSTILE_FILE_NAME = "<img src=x onerror=alert(1)>"


# --- the cases ---------------------------------------------------------------------------------------


def _cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    # --- YAML and validation -------------------------------------------------------------------------
    text = sample_edit(SUBTITLE, "summit showed", "summit: showed")
    syntax = at(
        SUBTITLE,
        column_of(text, SUBTITLE, ": showed"),
        "YAML syntax error: ': ' inside a value starts a key; if it is part of the text, put the whole value in quotes",
    )
    add(Case("yaml-syntax-error", text, (syntax,)))
    tab = at(SERIES, 1, "YAML syntax error: a tab character cannot indent YAML; indent with spaces")
    add(Case("tab-indentation", sample_edit(SERIES, "  series", "\tseries"), (tab,)))
    bomb = at(2, 4, "anchors (&a) are not allowed; write the value out")
    add(Case("alias-bomb", data("alias-bomb.yaml"), (bomb,)))
    text = sample_edit(SERIES, "  series: Commentary", "  series: Commentary\n  series: Analysis")
    add(Case("duplicate-key", text, (at(SERIES + 1, 3, f"duplicate key 'series' (first given on line {SERIES})"),)))
    # U+2028 is a line break to YAML but not to editors: refused where an editor shows it, so no position drifts
    text = sample_edit(TITLE, "divided over", "divided\u2028over", text)
    column = text.split("\n")[TITLE - 1].index("\u2028") + 1
    separator = at(TITLE, column, "the line separator U+2028 is not allowed; use an ordinary line break")
    add(Case("line-separator-refused-at-its-place", text, (separator,)))
    text = sample_edit(SERIES, "Commentary", "!!python/object/apply:os.system touch PWNED")
    add(Case("python-tag-on-scalar", text, (at_re(SERIES, 11, r".*python/object/apply:os\.system.*"),)))
    tag = "the tag tag:yaml.org,2002:python/object/apply:{} is not allowed; remove it"
    add(Case("python-tag-on-mapping", data("python-apply-mapping.yaml"), (at(2, 1, tag.format("os.system")),)))
    text = sample_edit(
        TITLE, f'"{TITLE_TEXT}"', '!!python/object/apply:subprocess.check_output [["cat", "/etc/passwd"]]'
    )
    add(Case("python-tag-reading-a-file", text, (at(TITLE, 10, tag.format("subprocess.check_output")),)))
    text = sample_edit(PUBLISHED, "2018-11-16", "[2018]")
    text = sample_edit(MEMBER_NAME, "Armenia", "{first: Armenia}", text)
    wrong = (
        at(PUBLISHED, 14, "expected a date written as YYYY-MM-DD"),
        at(MEMBER_NAME, 13, "input should be a valid string"),
    )
    add(Case("wrong-types", text, wrong))
    text = sample_edit(SERIES, "Commentary", "NO")
    text = sample_edit(LOCATION, "Astana, Kazakhstan", "12:30", text)
    text = sample_edit(HORIZON, "12 months", "1.10", text)
    quote = "input should be a valid string; YAML read '{0}' as {1}: put it in quotes, \"{0}\""
    traps = (
        at(SERIES, 11, quote.format("NO", "a boolean")),
        at(LOCATION, 13, quote.format("12:30", "a number")),
        at(HORIZON, 12, quote.format("1.10", "a number")),
    )
    add(Case("implicit-typing-traps", text, traps))
    text = SAMPLE_TEXT + "# " + "padding " * (MAX_SOURCE_BYTES // 8) + "\n"
    size = f"source is {len(text.encode('utf-8')):,} bytes; the limit is {MAX_SOURCE_BYTES:,}"
    add(Case("over-the-size-cap", text, (at(None, None, size),)))
    text = sample_edit(KEYWORDS, "  keywords:", "  keywords: " + "[" * 100 + "]" * 100 + "\n  extra:")
    deepest = column_of(text, KEYWORDS, "[") + MAX_NESTING - 2  # the root mapping is level 1, brief's level 2
    add(Case("deep-nesting", text, (at(KEYWORDS, deepest, f"nesting deeper than {MAX_NESTING} levels"),)))
    text = SAMPLE_TEXT.rstrip("\n") + "\n---\nbrief: {}\n"
    documents = at_re(line_of(text, "---"), 1, "YAML syntax error: a source holds one YAML document.*")
    add(Case("multiple-documents", text, (documents,)))
    raw = SAMPLE_TEXT.encode("utf-8").replace(b"divided over itself", b"divided \xff\xfe itself", 1)
    add(Case("invalid-utf8", raw, (SRC + re.escape(f":{TITLE}:") + r"\d+: error: source is not valid UTF-8",)))
    for name, character in [("nul-character", "\x00"), ("escape-character", "\x1b")]:
        text = sample_edit(TITLE, "divided over", f"divided{character}[2Jover")
        control = f"control character U+{ord(character):04X} is not allowed in YAML"
        add(Case(name, text, (at(TITLE, column_of(text, TITLE, character), control),)))
    bidi = "bidirectional control characters are not allowed: they can make text read differently"
    add(Case("bidi-override-in-title", sample_edit(TITLE, '"United', '"\u202eUnited'), (at(TITLE, 10, bidi),)))
    too_long = at(TITLE, 10, "string should have at most 500 characters")
    add(Case("over-long-title", sample_edit(TITLE, TITLE_TEXT, "Long " * 120), (too_long,)))
    text = sample_edit(TITLE, TITLE_TEXT, "<script>alert(1)</script>")
    add(Case("script-in-title", text, (), code=0, builds=True, check=check_script_title))
    raw_html = "raw HTML is not allowed in prose; use Markdown (*emphasis*, [link](https://...), - lists)"
    text = before_bottom_line("<img src=file:///etc/passwd>")
    add(Case("raw-html-in-prose", text, (at(BOTTOM_LINE, 14, raw_html),)))
    image = "images are not allowed in prose; link to the image instead, e.g. [map](https://...)"
    add(Case("markdown-image-in-prose", before_bottom_line("![x](file:///etc/passwd)"), (at(BOTTOM_LINE, 14, image),)))
    for name, link, href in [
        ("javascript-link-in-prose", "[x](javascript:alert(1))", "javascript:alert(1)"),
        ("mixed-case-javascript-link-in-prose", "[y](JaVaScRiPt:alert(2))", "JaVaScRiPt:alert(2)"),
        ("spaced-javascript-link-in-prose", "[z]( javascript:alert(3))", "javascript:alert(3)"),
        ("entity-javascript-link-in-prose", "[w](java&#115;cript:alert(4))", "javascript:alert(4)"),
        ("percent-javascript-link-in-prose", "[v](%6Aavascript:alert(5))", "%6Aavascript:alert(5)"),
    ]:
        refused_link = f"link to '{href}': only http, https and mailto links are allowed"
        add(Case(name, before_bottom_line(link), (at(BOTTOM_LINE, 14, refused_link),)))
    text = before_bottom_line("{% include 'brief.html.j2' %} {{ config }}")
    text = sample_edit(TITLE, f'"{TITLE_TEXT}"', "\"{{ 7*7 }} {{ ''.__class__.__mro__ }}\"", text)
    add(Case("template-syntax-in-yaml", text, (), code=0, builds=True, check=check_template_injection))
    # a file name that would be markup in the catalogue makes no brief id: refused, never built
    misnamed = at_re(None, None, re.escape(f"the file name makes the brief id '{HOSTILE_FILE_NAME}'") + ".*")
    add(Case(HOSTILE_FILE_NAME, SAMPLE_TEXT, (misnamed,)))

    # --- sources that are not plain files inside the project ------------------------------------------
    # a source found in sources/ that links out of the project refuses the whole build, as the config's files do
    links_out_message = "links to .*, outside the project; .*"
    links_out = at_re(None, None, links_out_message)
    add(Case("source-symlinked-outside", Link(SECRET), (links_out,), sibling_builds=False))
    # an endless file and a pipe nobody writes to: refused (a link out, not a regular file), never read forever
    endless = at_re(None, None, ".+")
    add(
        Case(
            "source-is-dev-zero",
            Link("/dev/zero"),
            (endless,),
            timeout=60,
            memory_limit=512 * 1024**2,
            sibling_builds=False,
        )
    )
    add(Case("source-is-a-fifo", Fifo(), (endless,), timeout=10))

    # --- project templates (the HTML stage) ------------------------------------------------------------
    def in_template(name: str, line: int, message: str) -> str:
        return at_re(line, None, message, path=f"templates/hostile/{name}.html.j2")

    name = "template-sandbox-escape"
    unsafe = re.escape("template error: access to attribute '__class__' of 'str' object is unsafe.")
    partial = "<p>fine</p>\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n"
    add(Case(name, SAMPLE_TEXT, (in_template(name, 2, unsafe),), files=template_case(name, partial)))
    name = "template-recursive-include"
    # the line is wherever Python's recursion limit struck, not necessarily the include (line 14)
    recursion = re.escape("templates/brief.html.j2:") + r"\d+: error: template error: .*recursion.*"
    add(Case(name, SAMPLE_TEXT, (recursion,), files=template_case(name)))
    # a file in templates/ linking out of the project refuses the whole build before any brief renders
    for name, partial, leak in [
        ("template-stylesheet-symlinked-outside", '<style>{{ stylesheet("leak.css") }}</style>', "leak.css"),
        ("template-include-symlinked-outside", '<pre>{% include "leak.html.j2" %}</pre>', "leak.html.j2"),
        ("template-asset-symlinked-outside", '<img src="{{ asset_url(\'leak.png\') }}" alt="x">', "leak.png"),
    ]:
        files = template_case(name, partial + "\n", files={f"templates/{leak}": Link(SECRET)})
        links_out_here = at_re(None, None, links_out_message, path=f"templates/{leak}")
        add(Case(name, SAMPLE_TEXT, (links_out_here,), files=files, sibling_builds=False))
    name = "template-embed-symlinked-outside"
    outside = re.escape("template error: 'secret-link.png' is not a file inside the project")
    partial = '<img src="{{ embed(\'secret-link.png\') }}" alt="x">\n'
    files = template_case(name, partial, files={"secret-link.png": Link(SECRET)})
    add(Case(name, SAMPLE_TEXT, (in_template(name, 1, outside),), files=files))

    # --- resources the PDF asks for: the fetcher -------------------------------------------------------
    def fetch(
        name: str,
        named: str,
        body: str = "",
        head: str = "",
        files: dict[str, Content] | None = None,
        at_url: tuple[str, int, int] | None = None,
    ):
        """A case whose PDF asks for named, refused at the brief or, given at_url, at that stylesheet's url()."""
        files = template_case(name, body, head, files)
        expected = refused(named) if at_url is None else at_re(at_url[1], at_url[2], refused_message(named), at_url[0])
        add(Case(name, SAMPLE_TEXT, (expected,), formats="pdf", files=files, group="fetch"))

    fetch("fetch-img-file-url", "/etc/passwd", '<img src="file:///etc/passwd" alt="x">')
    fetch("fetch-stylesheet-file-url", "/etc/passwd", head='<link rel="stylesheet" href="file:///etc/passwd">')
    metadata = "http://169.254.169.254/latest/meta-data/"
    fetch("fetch-img-metadata-service", metadata, f'<img src="{metadata}" alt="x">')
    fetch("fetch-attachment-file-url", "/etc/passwd", head='<link rel="attachment" href="file:///etc/passwd">')
    # project overrides of the stylesheets the built-in templates inline with stylesheet("...")
    fetch(
        "fetch-css-font-face",
        "/etc/passwd",
        head='<style>{{ stylesheet("print.css") }}</style>',
        files={"templates/print.css": data("font-face.css")},
        at_url=("templates/print.css", 4, 8),
    )
    fetch(
        "fetch-css-web-background",
        "http://169.254.169.254/x",
        head='<style>{{ stylesheet("brief.css") }}</style>',
        files={"templates/brief.css": data("web-background.css")},
        at_url=("templates/brief.css", 2, 20),
    )
    link = {"secret-link.png": Link(SECRET)}
    fetch("fetch-img-symlinked-outside", "secret-link.png", '<img src="secret-link.png" alt="x">', files=link)
    fetch("fetch-img-dot-dot", "secret.txt", '<img src="../secret.txt" alt="x">')
    fetch("fetch-img-absolute-path", "/etc/passwd", '<img src="/etc/passwd" alt="x">')
    fetch("fetch-object-data", "/etc/passwd", '<object data="file:///etc/passwd" type="image/png">x</object>')
    fetch(
        "fetch-svg-nested-image",
        "/etc/passwd",
        '<img src="{{ asset_url(\'nested-fetch.svg\') }}" alt="x" style="width: 2cm">',
        files={"templates/nested-fetch.svg": data("nested-fetch.svg")},
    )
    fetch("fetch-ftp-scheme", "ftp://example.org/x.png", '<img src="ftp://example.org/x.png" alt="x">')
    name = "fetch-broken-png"
    broken = at_re(None, None, r"PDF error: Failed to load image at '[^']*/templates/broken\.png'.*")
    body = '<img src="{{ asset_url(\'broken.png\') }}" alt="x">'
    files = template_case(name, body, files={"templates/broken.png": data("broken.png")})
    add(Case(name, SAMPLE_TEXT, (broken,), formats="pdf", files=files, group="fetch"))

    # --- the project, the build folder and the command line --------------------------------------------
    unusable = at_re(None, None, "cannot use output folder: Not a directory", path="somefile/build")
    add(
        Case(
            "out-inside-a-file",
            None,
            (unusable,),
            files={"somefile": "a file, not a folder\n"},
            args=("--out", "somefile/build"),
            sibling_builds=False,
        )
    )
    busy = at(None, None, "another briefgen command is writing this folder; run again when it ends", path="build")
    add(Case("build-folder-locked", None, (busy,), hold_lock=True, sibling_builds=False))
    usage = re.escape("briefgen build: error: argument --format: unknown format in 'pdf;rm -rf /'; ") + "choose .*"
    add(Case("bad-usage-format", None, (usage,), code=2, args=("--format", "pdf;rm -rf /"), sibling_builds=False))
    outside = "'{}' is outside the project folder"
    config = "brand:\n  name: Hostile\n  logo: secret-link.png\n"
    files = {"briefgen.yaml": config, "secret-link.png": Link(SECRET)}
    logo = at(3, 9, outside.format("secret-link.png"), path="briefgen.yaml")
    add(Case("config-logo-symlinked-outside", None, (logo,), files=files, sibling_builds=False))
    config = "fonts:\n  body:\n    family: Hostile\n    regular: ../secret.txt\n"
    font = at(4, 14, outside.format("../secret.txt"), path="briefgen.yaml")
    add(Case("config-font-outside", None, (font,), files={"briefgen.yaml": config}, sibling_builds=False))
    # a manifest.json that is not a build's may be anyone's file: the build refuses to replace it
    foreign = re.escape("briefgen: error: --out: build holds a manifest.json that is not a build's, ") + ".*"
    for name, manifest in [("manifest-briefs-not-a-list", {"briefs": {"id": "x"}}), ("manifest-not-json", "\x00\xff{")]:
        content = manifest if isinstance(manifest, str) else json.dumps(manifest)
        files = {"build/manifest.json": content}
        add(Case(name, None, (foreign,), code=2, files=files, sibling_builds=False))
    # a build folder left in a bad state: its manifest is rebuilt, never trusted
    escaping = {"html": {"path": "../../secret.txt", "bytes": 1, "cache_key": "x"}}
    for name, manifest in [
        ("manifest-entry-without-id", {"briefs": [{"source": "sources/gone.yaml"}]}),
        ("manifest-entries-not-objects", {"briefs": [1, None, "x"]}),
        (
            "manifest-path-escaping-the-folder",
            {
                "briefs": [
                    {"id": SAMPLE_ID, "source": f"sources/{SAMPLE_ID}.yaml", "outputs": escaping},
                    {"id": "gone", "source": "sources/gone.yaml", "outputs": escaping},
                ]
            },
        ),
    ]:
        content = manifest if isinstance(manifest, str) else json.dumps(manifest)
        add(Case(name, None, (), code=0, files={"build/manifest.json": content}))
    return cases


CASES = _cases()


# ---------------------------------------------------------------------------
# running cases: alone, or together with the others of their group in one project and one build


@dataclass
class Run:
    """One `briefgen build` of a project holding the good sample and the files of one or more cases."""

    cases: list[Case]
    root: Path
    proc: subprocess.CompletedProcess[str]
    formats: list[str]
    secret: bytes
    secret_path: Path
    before: set[str]  # the project's files before briefgen ran

    @property
    def build(self) -> Path:
        args = self.cases[0].args
        return self.root / dict(zip(args[::2], args[1::2], strict=False)).get("--out", "build")

    @property
    def report(self) -> str:
        return f"exit {self.proc.returncode}\nstdout:\n{self.proc.stdout}\nstderr:\n{self.proc.stderr}"


@dataclass
class Outcome:
    """What a case's `check` looks at: its case and the run it took part in."""

    case: Case
    run: Run

    @property
    def build(self) -> Path:
        return self.run.build

    def hostile_html(self) -> str:
        return (self.build / f"{self.case.name}.html").read_text(encoding="utf-8")

    def extra_pages(self) -> list[Path]:
        """The build's own HTML pages besides the briefs (an index of briefs), which show their titles too."""
        return [self.build / name for name in sorted(BUILD_EXTRAS) if (self.build / name).is_file()]


def _limit_memory(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def run_build(root: Path, *args: str, timeout: float = TIMEOUT, memory_limit: int | None = None):
    """Run `python -m briefgen build ARGS` in root; fail the test (not crash it) if it hangs."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "briefgen", "build", *args],
            cwd=root,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_limit_memory(memory_limit) if memory_limit else None,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"briefgen build did not finish within {timeout} s (stderr so far: {exc.stderr!r})")


def _write(root: Path, relative: str, content: Content, secret: Path) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, Link):
        path.symlink_to(secret if content.target == SECRET else content.target)
    elif isinstance(content, Fifo):
        os.mkfifo(path)
    else:
        write_source(path, content)


def files_under(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file() or path.is_symlink()}


def case_files(case: Case) -> dict[str, Content]:
    return ({f"sources/{case.name}.yaml": case.source} if case.source is not None else {}) | case.files


def run_cases(cases: list[Case], folder: Path, jobs: tuple[str, ...] = ONE_JOB, formats: str | None = None) -> Run:
    """Plant a secret outside a fresh project, write the cases' files into it, and build it."""
    secret_path = folder / "secret.txt"
    token = f"SECRET-TOKEN-{secrets.token_hex(12)}".encode("ascii")
    secret_path.write_bytes(token + b"\n")
    root = make_project(folder / "project")
    before = files_under(root)
    written: dict[str, Content] = {}
    for case in cases:
        for relative, content in case_files(case).items():
            assert written.get(relative, content) == content, f"two cases write different {relative}"
            if relative not in written:
                written[relative] = content
                _write(root, relative, content, secret_path)
    first = cases[0]
    formats = formats or first.formats
    args = (*jobs, "--format", formats) if "--format" not in first.args else jobs
    with folder_lock(root / "build") if first.hold_lock else contextlib.nullcontext():
        proc = run_build(root, *args, *first.args, timeout=first.timeout, memory_limit=first.memory_limit)
    return Run(cases, root, proc, formats.split(","), token, secret_path, before)


def _pdf_streams(path: Path) -> list[bytes]:
    """Every stream of a PDF, decompressed: pypdf walks from the trailer; qpdf (when present) rewrites it all."""
    found: list[bytes] = []
    reader = PdfReader(path)
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [reader.trailer]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        if isinstance(obj, StreamObject):
            try:
                found.append(obj.get_data())
            except Exception:  # a filter pypdf cannot undo (images): keep the raw bytes
                found.append(obj._data)
        if isinstance(obj, DictionaryObject):
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    if shutil.which("qpdf"):
        expanded = path.with_name(path.name + ".qdf")
        try:
            subprocess.run(
                ["qpdf", "--qdf", "--object-streams=disable", str(path), str(expanded)],
                capture_output=True,
                timeout=60,
                check=False,
            )
            found.append(expanded.read_bytes())
        finally:
            expanded.unlink(missing_ok=True)
    return found


def secrets_in(folder: Path, needles: list[bytes]) -> list[str]:
    """Where any needle occurs under folder: in a file's bytes, a decompressed PDF stream, or a PDF's text."""
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        blobs = {"bytes": raw}
        if raw.startswith(b"%PDF"):
            for number, stream in enumerate(_pdf_streams(path)):
                blobs[f"stream {number}"] = stream
            blobs["text"] = pdf_text(path).encode("utf-8")
        for where, blob in blobs.items():
            found.extend(f"{path.name} ({where}) holds the secret {needle!r}" for needle in needles if needle in blob)
    return found


def manifest_entries(build: Path) -> dict[str, dict]:
    """The manifest's entries by id; none when there is no manifest or it is not one."""
    try:
        briefs = json.loads((build / "manifest.json").read_text(encoding="utf-8"))["briefs"]
        return {entry["id"]: entry for entry in briefs}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": error: " in line]


def owner(line: str, cases: list[Case]) -> Case | None:
    """The case an error line is about (its source or its hostile partials), if any."""
    place = line.split(": error: ", 1)[0]
    for case in cases:
        if place.startswith((f"sources/{case.name}.yaml", f"templates/hostile/{case.name}.")):
            return case
        if f"/sources/{case.name}.yaml:" in place:  # shown by an absolute path
            return case
    return None


def evaluate(case: Case, run: Run) -> list[str]:
    """Every promise the run broke for this case (the numbers are those of the module's docstring)."""
    proc, root, build, formats = run.proc, run.root, run.build, run.formats
    problems: list[str] = []

    def expect(ok: object, message: str) -> None:
        if not ok:
            problems.append(f"{case.name}: {message}")

    # 1. exactly the expected error lines, each once; lines about no case of the run count for every case
    patterns = case.patterns()
    lines = error_lines(proc.stderr)
    for pattern in patterns:
        matching = [line for line in lines if re.fullmatch(pattern, line)]
        expect(len(matching) == 1, f"expected one error line matching {pattern!r}, got {len(matching)}")
    everyone = [pattern for other in run.cases for pattern in other.patterns()]
    unexpected = [
        line
        for line in lines
        if owner(line, run.cases) in (case, None)
        and not any(re.fullmatch(pattern, line) for pattern in (patterns if owner(line, run.cases) else everyone))
    ]
    expect(not unexpected, f"unexpected error lines: {unexpected}")
    # 2. the exit code
    expect(proc.returncode == case.code, f"exit code {proc.returncode}, expected {case.code}")
    # 3. reported, not crashed
    expect("Traceback" not in proc.stderr + proc.stdout, "a Traceback was printed")

    # 4. the good sibling was built
    entries = manifest_entries(build)
    if case.sibling_builds:
        for output_format in formats:
            expect((build / f"{SAMPLE_ID}.{output_format}").is_file(), f"the good sibling's {output_format} is missing")
        outputs = sorted(entries.get(SAMPLE_ID, {}).get("outputs", {}))
        expect(outputs == sorted(formats), f"the manifest lacks the good sibling's outputs: {entries}")
    else:
        expect(SAMPLE_ID not in entries, "the sibling was built though the whole build should have been refused")

    # 5. outputs only for what should build, no stray files in build/ nor anywhere in the project
    building = [SAMPLE_ID] if case.sibling_builds else []
    building += [other.name for other in run.cases if other.builds]
    expected = {f"{brief}.{output_format}" for brief in building for output_format in formats}
    expected |= {"manifest.json"} if building else set()
    if not building:  # a refused build leaves the files it found in the folder as they were
        expected |= {PurePosixPath(name).name for name in case.files if name.startswith("build/")}
    present = {path.name for path in build.iterdir()} if build.is_dir() else set()
    extras = BUILD_EXTRAS if building else set()
    expect(
        expected <= present <= expected | extras,
        f"the build folder holds {sorted(present)}, expected {sorted(expected)} (and maybe {sorted(extras)})",
    )
    if case.builds:
        outputs = sorted(entries.get(case.name, {}).get("outputs", {}))
        expect(outputs == sorted(formats), f"the manifest lacks the brief's outputs: {entries.get(case.name)}")
    else:
        expect(case.name not in entries, f"the hostile brief is in the manifest: {entries.get(case.name)}")
        if case.source is not None and case.code == 1 and case.sibling_builds:  # else the build never began
            expect(f"failed  sources/{case.name}.yaml" in proc.stderr, "no 'failed  sources/<name>.yaml' line")
    written = {relative for other in run.cases for relative in case_files(other)}
    appeared = files_under(root) - run.before - written - {f"build/{name}" for name in present}
    expect(not appeared, f"the build left {sorted(appeared)} behind (PWNED would mean a YAML tag ran a command)")

    # 6. no secret in any output, nor echoed on the terminal, and the secret file itself untouched
    needles = [run.secret, ETC_PASSWD_LINE]
    for folder in {root / "build", build}:
        if folder.is_dir():
            problems.extend(f"{case.name}: {leak}" for leak in secrets_in(folder, needles))
    for needle in needles:
        expect(needle.decode() not in proc.stdout + proc.stderr, f"the secret {needle!r} was printed")
    secret_intact = run.secret_path.is_file() and run.secret_path.read_bytes().startswith(run.secret)
    expect(secret_intact, "the secret file outside the project was changed or removed")

    if case.check is not None and not problems:
        try:
            case.check(Outcome(case, run))
        except AssertionError as exc:
            problems.append(f"{case.name}: {case.check.__name__}: {exc}")
    return problems


@pytest.fixture(scope="module")
def group_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Run]:
    """The run of a group of cases, built once for all of them."""
    runs: dict[str, Run] = {}

    def get(group: str) -> Run:
        if group not in runs:
            members = [case for case in CASES if case.group == group]
            runs[group] = run_cases(members, tmp_path_factory.mktemp(group))
        return runs[group]

    return get


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_catalogue(case: Case, tmp_path: Path, group_run: Callable[[str], Run]) -> None:
    run = group_run(case.group) if case.group else run_cases([case], tmp_path)
    problems = evaluate(case, run)
    assert not problems, "\n".join(["", *(f"- {problem}" for problem in problems), run.report])


GROUPED = [
    case
    for case in CASES
    if case.source is not None
    and case.code == 1
    and not case.builds
    and case.sibling_builds
    and not case.args
    and not case.hold_lock
    and case.memory_limit is None
    and case.timeout == TIMEOUT
]


def test_the_catalogue_in_one_parallel_build(tmp_path: Path) -> None:
    """Every failing source case at once, through the default worker processes: each reports as when alone."""
    run = run_cases(GROUPED, tmp_path, jobs=(), formats="html,pdf")
    problems = [problem for case in GROUPED for problem in evaluate(case, run)]
    assert not problems, "\n".join(["", *(f"- {problem}" for problem in dict.fromkeys(problems)), run.report])


def test_the_catalogue_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({case.name for case in CASES}) == len(CASES)


# ---------------------------------------------------------------------------
# cases that do not fit the table


@pytest.fixture
def secret(tmp_path: Path) -> bytes:
    """A unique token in a file outside the project (tmp_path/secret.txt; the project is tmp_path/project)."""
    token = f"SECRET-TOKEN-{secrets.token_hex(12)}".encode("ascii")
    (tmp_path / "secret.txt").write_bytes(token + b"\n")
    return token


def test_a_project_print_css_override_under_the_built_in_layout_cannot_fetch(tmp_path: Path, secret: bytes) -> None:
    """The built-in templates apply the project's print.css: its @font-face must go through the fetcher too.

    The override serves every brief of the project, so here the good sample fails as well; and a second
    brief rendered after it in the same process fails the same way (a failed stylesheet is not cached).
    """
    root = make_project(tmp_path / "project")
    shutil.copyfile(root / "sources" / f"{SAMPLE_ID}.yaml", root / "sources" / "second.yaml")
    (root / "templates").mkdir()
    (root / "templates" / "print.css").write_bytes(data("font-face.css"))
    proc = run_build(root, *ONE_JOB, "--format", "pdf")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr
    # the error is print.css's, so it is shown once, at its url(), and both briefs fail of it
    [error] = error_lines(proc.stderr)
    assert re.fullmatch(at_re(4, 8, refused_message("/etc/passwd"), "templates/print.css"), error), proc.stderr
    failed = {brief_id for brief_id in (SAMPLE_ID, "second") if f"failed  sources/{brief_id}.yaml" in proc.stderr}
    assert failed == {SAMPLE_ID, "second"}, proc.stderr
    assert {path.name for path in (root / "build").iterdir()} - BUILD_EXTRAS == {"manifest.json"}
    assert manifest_entries(root / "build") == {}
    assert secrets_in(root / "build", [secret, ETC_PASSWD_LINE]) == []


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(data("broken.png"))

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[tuple[str, list[str]]]:
    """A tiny HTTP server on 127.0.0.1, recording every request it is sent."""
    handler = type("Handler", (_RecordingHandler,), {"requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", handler.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize(
    ("host", "allowed_by"),
    [
        ("127.0.0.1", "option"),
        ("localhost", "option"),
        ("2130706433", "option"),  # 127.0.0.1 as one decimal number
        ("127.1", "option"),  # 127.0.0.1, shortened
        ("127.0.0.1", "config"),
    ],
    ids=["ip", "localhost", "decimal-ip", "short-ip", "config"],
)
def test_allowing_a_host_does_not_open_loopback_addresses(
    tmp_path: Path, secret: bytes, local_server: tuple[str, list[str]], host: str, allowed_by: str
) -> None:
    """`--allow-host` (or the config's network.allow_hosts) never lets a brief reach a non-public address."""
    address, requests = local_server
    port = address.rsplit(":", 1)[1]
    url = f"http://{host}:{port}/pixel.png"
    name = "loopback-image"
    root = make_project(tmp_path / "project")
    write_source(root / "sources" / f"{name}.yaml", SAMPLE_TEXT)
    for relative, content in template_case(name, f'<img src="{url}" alt="x">').items():
        _write(root, relative, content, tmp_path / "secret.txt")
    if allowed_by == "config":
        (root / "briefgen.yaml").write_text(f'network:\n  allow_hosts: ["{host}"]\n', encoding="utf-8")
        proc = run_build(root, *ONE_JOB, "--format", "pdf")
    else:
        proc = run_build(root, *ONE_JOB, "--format", "pdf", "--allow-host", host)
    report = f"exit {proc.returncode}\nstderr:\n{proc.stderr}"
    assert requests == [], f"the server was asked for {requests}\n{report}"
    assert "Traceback" not in proc.stderr, report
    assert proc.returncode == 1, report
    assert len(error_lines(proc.stderr)) == 1, report
    assert re.fullmatch(for_source(refused(url), name), error_lines(proc.stderr)[0]), report
    assert "non-public address 127.0.0.1" in proc.stderr, report
    assert (root / "build" / f"{SAMPLE_ID}.pdf").is_file(), report
    assert sorted(manifest_entries(root / "build")) == [SAMPLE_ID]
    assert not list((root / "build").glob(f"{name}.*"))
    assert secrets_in(root / "build", [secret, ETC_PASSWD_LINE]) == []
