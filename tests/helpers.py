"""Helpers shared by briefgen's tests.

The command line is always run in a child process (``python -m briefgen``) with a
temporary project folder as its working directory, so tests see exactly what a
user sees: the exit code, stdout and stderr. Broken inputs are made by text edits
of the sample source, so every expected line and column is known.
"""

import contextlib
import fcntl
import io
import os
import pty
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sources" / "csto-astana-2018.yaml"
SAMPLE_ID = "csto-astana-2018"
SAMPLE_TEXT = SAMPLE.read_text(encoding="utf-8")
# The standard estimative lexicon, as the issue states it: what briefs must print for each word.
LIKELIHOOD_RANGES = {
    "almost no chance": (1, 5),
    "very unlikely": (5, 20),
    "unlikely": (20, 45),
    "roughly even chance": (45, 55),
    "likely": (55, 80),
    "very likely": (80, 95),
    "almost certain": (95, 99),
}


# ---------------------------------------------------------------------------
# running briefgen


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a briefgen child process: ours, minus anything that would mask a bug."""
    env = {key: value for key, value in os.environ.items() if key not in {"SOURCE_DATE_EPOCH", "PYTHONWARNINGS"}}
    env.update(extra)
    return env


def run_briefgen(*args: object, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m briefgen ARGS`` in cwd and capture everything."""
    return subprocess.run(
        [sys.executable, "-m", "briefgen", *(str(arg) for arg in args)],
        cwd=cwd,
        env=env or child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def as_a_foreground_job() -> None:
    """In the child, before briefgen starts: Ctrl-C (SIGINT) reaches it as it reaches a terminal's foreground
    job, even when the tests themselves were started in the background, whose children ignore it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def in_a_terminal(*args: str, cwd: Path) -> str:
    """What `briefgen ARGS` shows on a terminal (a pseudo-terminal here), progress bar included."""
    controller, terminal = pty.openpty()
    env = child_env(COLUMNS="120", LINES="40", TERM="xterm")
    with subprocess.Popen(
        [sys.executable, "-m", "briefgen", *args], cwd=cwd, env=env, stdout=terminal, stderr=terminal
    ) as proc:
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: every process holding it has ended
                break
            if not chunk:
                break
            shown += chunk
        proc.wait(timeout=600)
    os.close(controller)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode(errors="replace"))  # colours, cursor moves
    assert proc.returncode == 0, text
    return text


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, f"briefgen crashed instead of reporting:\n{proc.stderr}"
    assert "Traceback" not in proc.stdout, f"briefgen crashed instead of reporting:\n{proc.stdout}"


# ---------------------------------------------------------------------------
# temporary projects


def long_brief(copies: int = 240) -> str:
    """The sample with its outcomes repeated (under new ids): a brief that takes minutes of CPU to print."""
    start = SAMPLE_TEXT.index("outcomes:\n") + len("outcomes:\n")
    end = SAMPLE_TEXT.index("\ncohesion:\n") + 1
    outcomes = SAMPLE_TEXT[start:end]
    repeated = "".join(
        re.sub(r"^  - id: (\S+)", rf"  - id: \1-{number}", outcomes, flags=re.MULTILINE) for number in range(copies)
    )
    return SAMPLE_TEXT[:start] + repeated + SAMPLE_TEXT[end:]


def make_project(root: Path, sources: dict[str, str | bytes] | None = None) -> Path:
    """A project folder with sources/ (the sample by default) and no templates/ of its own."""
    (root / "sources").mkdir(parents=True, exist_ok=True)
    for name, content in (sources if sources is not None else {f"{SAMPLE_ID}.yaml": SAMPLE_TEXT}).items():
        write_source(root / "sources" / name, content)
    return root


def write_source(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")


# ---------------------------------------------------------------------------
# editing the sample source by text, so positions are known


def line_of(text: str, needle: str, start: int = 1) -> int:
    """The 1-based number of the first line at or after `start` containing needle."""
    for number, line in enumerate(text.split("\n"), start=1):
        if number >= start and needle in line:
            return number
    raise AssertionError(f"no line containing {needle!r} (from line {start}) in the source")


def column_of(text: str, line: int, needle: str) -> int:
    """The 1-based column where needle starts on the given line."""
    found = text.split("\n")[line - 1].find(needle)
    assert found >= 0, f"{needle!r} is not on line {line}: {text.split(chr(10))[line - 1]!r}"
    return found + 1


def replace_line(text: str, line: int, old: str, new: str) -> str:
    """Replace the first `old` on the given 1-based line by `new`, insisting it is there."""
    lines = text.split("\n")
    assert old in lines[line - 1], f"line {line} is {lines[line - 1]!r}, which lacks {old!r}"
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines)


def replace_once(text: str, old: str, new: str) -> str:
    """Replace a fragment that occurs exactly once in the text."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def as_memo(text: str) -> str:
    """A copy of the sample (or of an edit of it) printed as a one-page memo, the built-in memo theme, at about
    half the CPU of the six-page brief: for tests of how the work runs (workers, interrupts, deaths, what a run
    does to its folder), which need briefs to print, not the sample's pages."""
    return replace_once(text, "  series: Commentary\n", "  series: Commentary\n  theme: memo\n")


MEMO_TEXT = as_memo(SAMPLE_TEXT)


def delete_lines(text: str, first: int, last: int) -> str:
    lines = text.split("\n")
    return "\n".join(lines[: first - 1] + lines[last:])


# ---------------------------------------------------------------------------
# validating a (broken) source through the command line


class Checked(NamedTuple):
    """What `briefgen validate` said about one source."""

    code: int
    lines: list[str]  # the diagnostics about the source, in the order printed
    stderr: str


SOURCE_NAME = "brief.yaml"
SHOWN = f"sources/{SOURCE_NAME}"


def at(line: int | None, column: int | None, message: str, severity: str = "error") -> str:
    """The expected diagnostic line for the checked source."""
    place = ":".join(str(part) for part in (SHOWN, line, column) if part is not None)
    return f"{place}: {severity}: {message}"


# ---------------------------------------------------------------------------
# reading outputs


def weasyprint_command_pdf(html: str, project_root: Path, workdir: Path) -> bytes:
    """The PDF the `weasyprint` command prints from the HTML (tagged, as briefgen prints), its relative URLs
    resolved against the project folder: what briefgen's own PDF must equal, once both are decompressed
    (pdf_decompressed: briefgen deflates with zlib-ng, the command with zlib)."""
    (workdir / "in.html").write_text(html, encoding="utf-8")
    command = Path(sys.executable).with_name("weasyprint")
    base_url = project_root.as_uri() + "/"
    subprocess.run([command, "--pdf-tags", "--base-url", base_url, "in.html", "out.pdf"], cwd=workdir, check=True)
    return (workdir / "out.pdf").read_bytes()


def pdf_decompressed(data: bytes) -> bytes:
    """The PDF rewritten by qpdf (pikepdf) with every stream decoded and no object streams, objects numbered
    in qpdf's order and a fixed file identifier: equal for two PDFs that differ only in how they deflate."""
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(
            out,
            qdf=True,
            static_id=True,
            compress_streams=False,
            stream_decode_level=pikepdf.StreamDecodeLevel.generalized,
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
        )
    return out.getvalue()


def _pdftotext(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    text = out.decode("utf-8")
    # undo line-end hyphenation: WeasyPrint's automatic breaks (U+2010) vanish, breaks after a real hyphen stay
    return re.sub(r"-\n", "-", re.sub(r"\u2010\n", "", text))


def pdf_text(path: Path) -> str:
    """The PDF's text as pdftotext reads it, hyphenation undone and whitespace collapsed."""
    return collapse(_pdftotext(path))


def pdf_pages_text(path: Path) -> list[str]:
    """The text of each page (pdftotext separates pages with form feeds)."""
    pages = _pdftotext(path).split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return [collapse(page) for page in pages]


def collapse(text: str) -> str:
    """Whitespace collapsed to single spaces, soft hyphens dropped, typographic quotes made plain."""
    text = text.replace("\u00ad", "").replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text).strip()


class _TextExtractor(HTMLParser):
    """The visible text of an HTML document, and the text of each <table>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tables: list[list[str]] = []
        self._open_tables: list[list[str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "head"}:
            self._skip += 1
        elif tag == "table":
            self._open_tables.append([])
        self.parts.append(" ")
        for table in self._open_tables:
            table.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "head"}:
            self._skip -= 1
        elif tag == "table" and self._open_tables:
            self.tables.append(self._open_tables.pop())
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data)
        for table in self._open_tables:
            table.append(data)


@dataclass(frozen=True)
class HtmlText:
    text: str
    tables: list[str]


def html_text(document: str) -> HtmlText:
    """Visible text of an HTML document (collapsed), and of each of its tables."""
    parser = _TextExtractor()
    parser.feed(document)
    parser.close()
    return HtmlText(collapse("".join(parser.parts)), [collapse("".join(table)) for table in parser.tables])


class _MetaCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.html_attrs: dict[str, str | None] = {}
        self.title: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html_attrs = attributes
        elif tag == "meta" and attributes.get("name"):
            self.meta.setdefault(str(attributes["name"]).lower(), []).append(attributes.get("content") or "")
        elif tag == "title" and self.title is None:
            self._in_title = True
            self.title = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data


def html_head(document: str) -> _MetaCollector:
    """The <html> attributes, <title> and named <meta> elements of a document."""
    parser = _MetaCollector()
    parser.feed(document)
    parser.close()
    return parser


# ---------------------------------------------------------------------------
# the sample, built once per session


@dataclass(frozen=True)
class Built:
    """A project built with `briefgen build`."""

    root: Path
    proc: subprocess.CompletedProcess[str]

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def pdf(self) -> Path:
        return self.build_dir / f"{SAMPLE_ID}.pdf"

    @property
    def html(self) -> Path:
        return self.build_dir / f"{SAMPLE_ID}.html"

    @property
    def manifest(self) -> Path:
        return self.build_dir / "manifest.json"


def build_sample(root: Path) -> Built:
    make_project(root)
    proc = run_briefgen("build", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, f"building the sample failed:\n{proc.stdout}\n{proc.stderr}"
    return Built(root, proc)


# ---------------------------------------------------------------------------
# likelihoods beside their judgments, in any text a brief is read as


def assert_likelihoods_beside_judgments(text: str, judgments: list[dict]) -> None:
    """Each judgment's likelihood word and range stand between the previous and the next statement."""
    lowered = text.replace("\u2019", "'").lower()
    starts: list[int] = []
    for judgment in judgments:
        prefix = " ".join(judgment["statement"].replace("\u2019", "'").split()[:5]).lower()
        assert prefix in lowered, f"judgment {judgment['id']!r} is missing"
        starts.append(lowered.index(prefix, starts[-1] if starts else 0))
    for number, judgment in enumerate(judgments):
        begin = starts[number - 1] if number else 0
        end = starts[number + 1] if number + 1 < len(starts) else starts[number] + 2000
        window = lowered[begin:end]
        word = judgment["likelihood"]
        low, high = LIKELIHOOD_RANGES[word]
        # 'likely' must not match inside 'unlikely' or 'very likely'
        assert re.search(rf"(?<![\w-])(?<!very )(?<!almost ){re.escape(word)}(?![\w-])", window), (
            f"{judgment['id']}: '{word}' not shown"
        )
        # '55\u201380%' (en dash), '55-80%', '55% - 80%', '55 to 80%' or '55\u201380 %'
        assert re.search(rf"(?<!\d){low}\s*%?\s*(?:\u2013|-|to)\s*{high}\s*%", window), (
            f"{judgment['id']}: range {low} to {high}% not shown"
        )


def processes_in(folder: Path) -> list[int]:
    """The processes whose working directory is folder, as a build's workers have."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cwd").resolve() == folder.resolve():
                found.append(int(entry.name))
        except OSError:  # gone, or not ours to look at
            continue
    return found


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the lock briefgen takes on an output folder, without saying who holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(handle)
