"""The command line: usage, exit codes, output formats, and no tracebacks on bad input."""

import json
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import (
    REPO,
    SAMPLE_ID,
    SAMPLE_TEXT,
    assert_no_traceback,
    child_env,
    html_head,
    in_a_terminal,
    line_of,
    make_project,
    pdf_text,
    replace_line,
    run_briefgen,
)
from pypdf import PdfReader

import briefgen

SOURCE = f"sources/{SAMPLE_ID}.yaml"
TITLE = "United on arms control, divided over itself: the CSTO after Astana"


@pytest.mark.parametrize(
    "command", [[], ["validate"], ["build"], ["render"], ["schema"]], ids=lambda c: c[0] if c else "briefgen"
)
def test_help_exits_zero(project: Path, command: list[str]) -> None:
    proc = run_briefgen(*command, "--help", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: briefgen")


def test_version(project: Path) -> None:
    proc = run_briefgen("--version", cwd=project)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"briefgen {briefgen.__version__}"


@pytest.mark.parametrize(
    "args",
    [
        ["build", "--format", "docx"],
        ["build", "--format", "pdf,docx"],
        ["build", "--format", ","],
        ["frobnicate"],
        ["render", SOURCE],
        [],
        ["validate", "--no-such-option"],
    ],
    ids=[
        "format-docx",
        "format-mixed",
        "format-empty",
        "unknown-command",
        "render-without-o",
        "no-command",
        "bad-option",
    ],
)
def test_bad_usage_exits_two(project: Path, args: list[str]) -> None:
    proc = run_briefgen(*args, cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "usage: briefgen" in proc.stderr
    assert not (project / "build").exists()


def test_render_pdf(project: Path) -> None:
    proc = run_briefgen("render", SOURCE, "-o", "out/brief.pdf", cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "rendered out/brief.pdf"
    path = project / "out" / "brief.pdf"
    assert path.read_bytes().startswith(b"%PDF-")
    reader = PdfReader(path)
    assert reader.metadata.title == TITLE
    assert len(reader.pages) >= 2
    assert sorted(p.name for p in (project / "out").iterdir()) == ["brief.pdf"]


@pytest.mark.parametrize("name", ["brief.html", "BRIEF.HTML"])
def test_render_html(project: Path, name: str) -> None:
    proc = run_briefgen("render", SOURCE, "-o", name, cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    document = (project / name).read_text(encoding="utf-8")
    assert document.lstrip().lower().startswith("<!doctype html")
    assert html_head(document).title.strip() == TITLE
    assert not (project / "build").exists()


def test_render_to_an_unknown_format_is_an_error(project: Path) -> None:
    proc = run_briefgen("render", SOURCE, "-o", "out.docx", cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "out.docx: error: cannot tell the format from the suffix; use one of .pdf, .html"
    ]
    assert not (project / "out.docx").exists()


def test_trace_without_a_copy_is_bad_usage(project: Path) -> None:
    proc = run_briefgen("trace", cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["briefgen trace: error: give a PDF copy, or a copy id with --id"]


@pytest.mark.parametrize("host", ["http://example.org/", "example.org:8080", "example.org/images", ""])
def test_allow_host_takes_only_a_host_name(project: Path, host: str) -> None:
    proc = run_briefgen("build", "--format", "html", "--allow-host", host, cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    hint = "--allow-host takes a host name such as example.org, not a URL"
    assert proc.stderr.splitlines() == [f"briefgen: error: --allow-host: '{host}' is not a host name; {hint}"]
    assert not (project / "build").exists()


@pytest.mark.parametrize("host", ["example.org", "Static.Example.ORG", "203.0.113.7", "2001:db8::1"])
def test_allow_host_takes_host_names_and_addresses(project: Path, host: str) -> None:
    proc = run_briefgen("build", "--format", "html", "--allow-host", host, cwd=project)
    assert proc.returncode == 0, proc.stderr


def test_render_reports_source_errors(project: Path) -> None:
    series = line_of(SAMPLE_TEXT, "  series: Commentary")
    (project / SOURCE).write_text(replace_line(SAMPLE_TEXT, series, "Commentary", "NO"), encoding="utf-8")
    proc = run_briefgen("render", SOURCE, "-o", "out.html", cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{SOURCE}:{series}:11: error: ")
    assert not (project / "out.html").exists()


def test_schema_prints_the_json_schema(project: Path) -> None:
    proc = run_briefgen("schema", cwd=project)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    properties = schema["properties"]
    for key in (
        "brief",
        "event",
        "bottom_line",
        "key_judgments",
        "outcomes",
        "cohesion",
        "leverage",
        "outlook",
        "sources",
    ):
        assert key in properties
        assert key in schema["required"]
    assert schema["$schema"].startswith("https://json-schema.org/")


def test_validate_all_sources_by_default(tmp_path: Path) -> None:
    series = line_of(SAMPLE_TEXT, "  series: Commentary")
    root = make_project(
        tmp_path / "p", {"a.yaml": SAMPLE_TEXT, "b.yaml": replace_line(SAMPLE_TEXT, series, "Commentary", "NO")}
    )
    proc = run_briefgen("validate", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(f"sources/b.yaml:{series}:11: error: ")
    assert lines[-1] == "1 of 2 sources valid"


def test_validate_without_sources(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    proc = run_briefgen("validate", cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["sources: error: no sources (*.yaml) to process"]


def test_outside_a_project_says_where_to_run(tmp_path: Path) -> None:
    proc = run_briefgen("build", cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "sources: error: no sources (*.yaml) to process; run briefgen in a project folder (one holding sources/), "
        "or make one with 'briefgen init DIR'"
    ]


def test_a_source_ending_in_yml_is_named_as_not_read(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "sources" / "other.yml").write_text(SAMPLE_TEXT, encoding="utf-8")
    proc = run_briefgen("validate", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        "sources/other.yml: warning: not read: sources end in .yaml; rename it other.yaml",
        "1 of 1 sources valid",
    ]


@pytest.mark.parametrize("args", [["validate"], ["validate", "sources/d.yaml"]], ids=["all", "named"])
def test_validate_calls_a_folder_not_a_regular_file(project: Path, args: list[str]) -> None:
    (project / "sources" / "d.yaml").mkdir()
    proc = run_briefgen(*args, cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "sources/d.yaml: error: not a regular file" in proc.stderr.splitlines()
    assert proc.stderr.splitlines()[-1].endswith("sources valid")


def test_validate_counts_a_missing_source_in_its_summary(project: Path) -> None:
    proc = run_briefgen("validate", "nope.yaml", SOURCE, cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["nope.yaml: error: no such source file", "1 of 2 sources valid"]


def imported_modules(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "briefgen", *args],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "briefgen.cli" in proc.stderr  # importtime did report
    return proc.stderr


@pytest.mark.parametrize("args", [["validate"], ["schema"], ["build", "--format", "html"]], ids=" ".join)
def test_commands_that_print_no_pdf_do_not_import_weasyprint(project: Path, args: list[str]) -> None:
    modules = imported_modules(args, project)
    assert "briefgen.validate" in modules
    assert "weasyprint" not in modules


@pytest.mark.parametrize("args", [["--help"], ["build", "--help"], ["--version"]], ids=" ".join)
def test_help_loads_no_stage_of_the_pipeline(project: Path, args: list[str]) -> None:
    """Help and the version come straight from the argument parser: no models, templates or YAML loaded."""
    modules = imported_modules(args, project)
    loaded = set(re.findall(r"^import time:.*\|\s+([\w.]+)$", modules, re.MULTILINE))
    assert "briefgen.formats" in loaded  # the pattern does find modules
    assert not loaded & {"briefgen.pipeline", "pydantic", "jinja2", "yaml", "weasyprint"}


def test_a_pdf_build_does_import_weasyprint(project: Path) -> None:
    # the counterpart of the test above, so that its check is known to detect WeasyPrint
    modules = imported_modules(["render", SOURCE, "-o", "x.pdf"], project)
    assert "weasyprint" in modules


def file_in_the_way(root: Path) -> Path:
    (root / "afile").write_text("x", encoding="utf-8")
    return root


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "nope.yaml"],
        ["validate", "sources"],
        ["render", "nope.yaml", "-o", "x.pdf"],
        ["render", SOURCE, "-o", "afile/x.html"],
        ["build", "--format", "html", "--out", "afile"],
        ["build", "--format", "html", "nope.yaml"],
        ["validate", "binary.yaml"],
        ["validate", "list.yaml"],
        ["validate", "scalar.yaml"],
    ],
)
def test_no_traceback_on_bad_input(project: Path, args: list[str]) -> None:
    file_in_the_way(project)
    (project / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (project / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    (project / "scalar.yaml").write_text("just words\n", encoding="utf-8")
    proc = run_briefgen(*args, cwd=project)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    first = proc.stderr.splitlines()[0]
    assert ": error: " in first, proc.stderr


def test_the_readme_python_example_runs_as_written(tmp_path: Path) -> None:
    """The README's Python example, run verbatim in a project holding the sample: it writes the public PDF;
    with a broken source it prints the located error instead."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    root = make_project(tmp_path / "p")
    (root / "example.py").write_text(example, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "example.py"], cwd=root, env=child_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["() 6"]
    assert "Restricted" not in pdf_text(root / "brief.pdf")
    source = root / "sources" / f"{SAMPLE_ID}.yaml"
    source.write_text(SAMPLE_TEXT.replace("  series: Commentary", "  series: [", 1), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "example.py"], cwd=root, env=child_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(rf"sources/{SAMPLE_ID}\.yaml:\d+:\d+: error: YAML syntax error: .*\n", proc.stdout)


@pytest.mark.parametrize("command", [["build"], ["render", "-o", "out.pdf"]])
def test_a_brief_id_given_for_its_source_suggests_the_source(tmp_path: Path, command: list[str]) -> None:
    root = make_project(tmp_path / "p")
    proc = run_briefgen(command[0], SAMPLE_ID, *command[1:], cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"{SAMPLE_ID}: error: no such source file; did you mean sources/{SAMPLE_ID}.yaml?"
    ]


def test_the_progress_bar_counts_each_brief_in_each_edition(tmp_path: Path) -> None:
    """One source in two editions is two briefs: the bar counts to 2/2, not to 2 of 1."""
    root = make_project(tmp_path / "p")
    shown = in_a_terminal("build", "--format", "html", "--edition", "public,restricted", "--jobs", "1", cwd=root)
    counts = set(re.findall(r"\b(\d+)/(\d+)\b", shown))
    assert ("2", "2") in counts, shown
    assert {total for _, total in counts} == {"2"}, shown


def under_file_size_limit(*args: str, cwd: Path, limit: int = 200_000) -> subprocess.CompletedProcess[str]:
    """`briefgen ARGS` in a process that may write no file larger than limit bytes: WeasyPrint's copies of the
    bundled fonts (up to 640 KB) cannot be written, as on a full disk."""

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "briefgen", *args],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=limited,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("build", "--force", "--format", "pdf"), "error: could not be rendered: the system refused a file: "),
        (("render", f"sources/{SAMPLE_ID}.yaml", "-o", "out.pdf"), "briefgen: error: the system refused a file: "),
    ],
)
def test_a_file_the_system_refuses_is_an_error_not_a_traceback(
    tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    root = make_project(tmp_path / "p")
    proc = under_file_size_limit(*args, cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    assert f"{expected}file too large" in proc.stderr, proc.stderr
    assert not (root / "out.pdf").exists()
