"""Links out of the project: what briefgen finds by itself (sources/*.yaml, sources/, templates/) must stay
inside the project once symlinks are resolved; a file named on the command line is read wherever it is.

Each refused case plants a marker outside the project and checks the exact error line, the exit code,
that nothing was written and that the marker reached no output.
"""

from pathlib import Path

import pytest
from helpers import SAMPLE_ID, SAMPLE_TEXT, assert_no_traceback, make_project, replace_once, run_briefgen

from briefgen.errors import BriefgenError
from briefgen.formats import Format
from briefgen.pipeline import Project, render_brief

MARKER = "OUTSIDE-THE-PROJECT-MARKER"
SAMPLE_TITLE = "United on arms control, divided over itself: the CSTO after Astana"
OUTSIDE_SOURCE = replace_once(SAMPLE_TEXT, SAMPLE_TITLE, MARKER)
OUTSIDE_TEMPLATE = '{% extends "layout.html.j2" %}{% block masthead %}<p>' + MARKER + "</p>{% endblock %}\n"
SOURCE_ADVICE = "briefgen reads a file outside the project only when you name it"
TEMPLATE_ADVICE = "templates are read only from inside it"
RECIPIENTS = "name,organisation,email\nAnna Field,Foreign Office,anna@example.org\n"


def outside(tmp_path: Path) -> Path:
    """A folder beside the project holding a source and a template that must never be read unasked."""
    folder = tmp_path / "outside"
    (folder / "sources").mkdir(parents=True)
    (folder / "templates").mkdir()
    (folder / "sources" / "ext.yaml").write_text(OUTSIDE_SOURCE, encoding="utf-8")
    (folder / "templates" / "brief.html.j2").write_text(OUTSIDE_TEMPLATE, encoding="utf-8")
    return folder


def project_with_recipients(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "project")
    (root / "r.csv").write_text(RECIPIENTS, encoding="utf-8")
    return root


def run(root: Path, *args: str) -> tuple[int, list[str]]:
    """Run briefgen in root; its exit code and the lines it printed as errors."""
    proc = run_briefgen(*args, cwd=root)
    assert_no_traceback(proc)
    return proc.returncode, [line for line in proc.stderr.splitlines() if ": error: " in line]


def assert_nothing_leaked(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert MARKER.encode() not in path.read_bytes(), f"{path} holds what lies outside the project"


COMMANDS = {
    "validate": ("validate",),
    "build": ("build", "--format", "html"),
    "distribute": ("distribute", "--recipients", "r.csv"),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_source_linking_out_of_the_project_is_refused(tmp_path: Path, command: str) -> None:
    target = outside(tmp_path) / "sources" / "ext.yaml"
    root = project_with_recipients(tmp_path)
    (root / "sources" / "ext.yaml").symlink_to(target)
    code, errors = run(root, *COMMANDS[command])
    advice = f"{SOURCE_ADVICE}: copy the file into sources/, or name it on the command line"
    assert errors == [f"sources/ext.yaml: error: links to {target}, outside the project; {advice}"]
    assert code == 1
    assert not (root / "build").exists() and not (root / "dist").exists()
    assert_nothing_leaked(root)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_sources_folder_linking_out_of_the_project_is_refused(tmp_path: Path, command: str) -> None:
    target = outside(tmp_path) / "sources"
    root = tmp_path / "project"
    root.mkdir()
    (root / "r.csv").write_text(RECIPIENTS, encoding="utf-8")
    (root / "sources").symlink_to(target)
    code, errors = run(root, *COMMANDS[command])
    advice = f"{SOURCE_ADVICE}: put the folder itself in the project, or name its files on the command line"
    assert errors == [f"sources: error: links to {target}, outside the project; {advice}"]
    assert code == 1
    assert not (root / "build").exists() and not (root / "dist").exists()
    assert_nothing_leaked(root)


@pytest.mark.parametrize(
    "command",
    [
        ("validate",),
        ("build", "--format", "html"),
        ("render", f"sources/{SAMPLE_ID}.yaml", "-o", "out.html"),
        ("distribute", "--recipients", "r.csv"),
        ("templates", "list"),
    ],
    ids=lambda args: args[0] if args[0] != "templates" else "templates-list",
)
def test_a_templates_folder_linking_out_of_the_project_is_refused(tmp_path: Path, command: tuple[str, ...]) -> None:
    target = outside(tmp_path) / "templates"
    root = project_with_recipients(tmp_path)
    (root / "templates").symlink_to(target)
    code, errors = run(root, *command)
    advice = f"{TEMPLATE_ADVICE}: put the folder itself in the project, in place of the link"
    assert errors == [f"templates: error: links to {target}, outside the project; {advice}"]
    assert code == 1
    assert not (root / "build").exists() and not (root / "out.html").exists()
    assert_nothing_leaked(root)


def test_a_template_linked_out_after_a_build_fails_the_next_plain_build(tmp_path: Path) -> None:
    """The cache keys leave a linked template out, so only refusing it up front stops a "skipped"."""
    target = outside(tmp_path) / "templates" / "brief.html.j2"
    root = make_project(tmp_path / "project")
    assert run(root, "build", "--format", "html") == (0, [])
    built = {path.name: path.read_bytes() for path in (root / "build").iterdir()}
    (root / "templates" / "partials").mkdir(parents=True)
    (root / "templates" / "partials" / "masthead.html.j2").symlink_to(target)
    code, errors = run(root, "build", "--format", "html")
    advice = f"{TEMPLATE_ADVICE}: copy the file or folder here, in place of the link"
    assert errors == [f"templates/partials/masthead.html.j2: error: links to {target}, outside the project; {advice}"]
    assert code == 1
    assert {path.name: path.read_bytes() for path in (root / "build").iterdir()} == built
    assert_nothing_leaked(root)


def test_a_template_linked_elsewhere_in_the_project_fails_the_next_plain_build(tmp_path: Path) -> None:
    """The loader reads templates only from the template folders; a link from templates/ to the rest of the
    project is refused up front too, not reported as skipped."""
    root = make_project(tmp_path / "project")
    assert run(root, "build", "--format", "html") == (0, [])
    (root / "shared").mkdir()
    (root / "shared" / "brief.html.j2").write_text(OUTSIDE_TEMPLATE, encoding="utf-8")
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").symlink_to("../shared/brief.html.j2")
    code, errors = run(root, "build", "--format", "html")
    advice = "the one project folder templates come from: copy the file or folder here, in place of the link"
    assert errors == [f"templates/brief.html.j2: error: links to shared/brief.html.j2, outside templates/, {advice}"]
    assert code == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_a_config_linking_out_of_the_project_is_refused(tmp_path: Path, command: str) -> None:
    target = tmp_path / "outside" / "briefgen.yaml"
    target.parent.mkdir()
    target.write_text(f"brand:\n  name: {MARKER}\n", encoding="utf-8")
    root = project_with_recipients(tmp_path)
    (root / "briefgen.yaml").symlink_to(target)
    code, errors = run(root, *COMMANDS[command])
    advice = "the config is read only from inside the project: copy the file here in place of the link"
    assert errors == [f"briefgen.yaml: error: links to {target}, outside the project; {advice}"]
    assert code == 1
    assert not (root / "build").exists() and not (root / "dist").exists()
    assert_nothing_leaked(root)


def test_links_that_stay_inside_the_project_are_followed(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    (root / "drafts").mkdir()
    (root / "drafts" / "ext.yaml").write_text(OUTSIDE_SOURCE, encoding="utf-8")
    (root / "sources" / "ext.yaml").symlink_to("../drafts/ext.yaml")
    (root / "shared" / "templates").mkdir(parents=True)
    (root / "shared" / "templates" / "brief.html.j2").write_text(OUTSIDE_TEMPLATE, encoding="utf-8")
    (root / "templates").symlink_to("shared/templates")
    assert run(root, "build", "--format", "html") == (0, [])
    html = (root / "build" / "ext.html").read_text(encoding="utf-8")
    assert html.count(MARKER) >= 2  # the linked source's title and the linked template's masthead


def test_a_file_named_on_the_command_line_is_read_wherever_it_is(tmp_path: Path) -> None:
    source = outside(tmp_path) / "sources" / "ext.yaml"
    root = make_project(tmp_path / "project")
    (root / "sources" / "link.yaml").symlink_to(source)
    assert run(root, "validate", str(source), "sources/link.yaml") == (0, [])
    assert run(root, "render", str(source), "-o", "ext.html") == (0, [])
    assert MARKER in (root / "ext.html").read_text(encoding="utf-8")
    assert run(root, "build", "--format", "html", "sources/link.yaml") == (0, [])
    assert MARKER in (root / "build" / "link.html").read_text(encoding="utf-8")


def test_the_template_loader_refuses_a_templates_folder_linking_out(tmp_path: Path) -> None:
    """A Project made without Project.open skips the check when it opens; rendering still refuses."""
    root = make_project(tmp_path / "project")
    (root / "templates").symlink_to(outside(tmp_path) / "templates")
    with pytest.raises(BriefgenError) as raised:
        render_brief(root / "sources" / f"{SAMPLE_ID}.yaml", Project(root), [Format.HTML])
    assert "'brief.html.j2' leads outside the project" in str(raised.value)
    assert MARKER not in str(raised.value)
