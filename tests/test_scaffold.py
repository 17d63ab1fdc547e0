"""init, new and templates eject: starting points that work at once."""

import subprocess
from pathlib import Path

from helpers import assert_no_traceback, make_project, pdf_text, run_briefgen

from briefgen.config import ProjectConfig, load_config
from briefgen.load import load_source


def test_init_gives_a_project_that_builds(tmp_path: Path) -> None:
    proc = run_briefgen("init", "house", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "house"
    assert (root / "briefgen.yaml").is_file()
    assert (root / "templates").is_dir() and not any((root / "templates").iterdir())
    proc = run_briefgen("build", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert "Title of the brief" in pdf_text(root / "build" / "first-brief.pdf")
    assert run_briefgen("init", "house", cwd=tmp_path).returncode == 1  # never over an existing project


def test_init_names_the_next_command_as_a_shell_takes_it(tmp_path: Path) -> None:
    """The last line of init is meant to be pasted: a folder with a space and a quote in its name works there."""
    proc = run_briefgen("init", "house notes 'ü'", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    command = proc.stdout.splitlines()[-1].removeprefix("now: ").replace("briefgen build", "pwd")
    shell = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True)
    assert shell.returncode == 0, shell.stderr
    assert Path(shell.stdout.strip()) == tmp_path / "house notes 'ü'"


def test_new_adds_a_valid_source_and_refuses_bad_ids(tmp_path: Path) -> None:
    run_briefgen("init", ".", cwd=tmp_path)
    proc = run_briefgen("new", "gulf-summit-2026", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "sources" / "gulf-summit-2026.yaml").is_file()
    assert run_briefgen("validate", cwd=tmp_path).returncode == 0
    assert run_briefgen("new", "gulf-summit-2026", cwd=tmp_path).returncode == 1
    bad = run_briefgen("new", "Bad Id", cwd=tmp_path)
    assert bad.returncode == 2 and "is not a brief id" in bad.stderr


def test_an_ejected_template_changed_by_one_line_changes_the_output(tmp_path: Path) -> None:
    run_briefgen("init", ".", cwd=tmp_path)
    proc = run_briefgen("templates", "eject", "partials/bottom_line.html.j2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ejected = tmp_path / "templates" / "partials" / "bottom_line.html.j2"
    assert ejected.is_file()
    listing = run_briefgen("templates", "list", cwd=tmp_path).stdout
    assert "1. partials/bottom_line.html.j2  (hides" in listing
    ejected.write_text(ejected.read_text(encoding="utf-8") + "<p>EJECTED-AND-EDITED</p>\n", encoding="utf-8")
    assert run_briefgen("build", "--format", "html", cwd=tmp_path).returncode == 0
    assert "EJECTED-AND-EDITED" in (tmp_path / "build" / "first-brief.html").read_text(encoding="utf-8")
    again = run_briefgen("templates", "eject", "partials/bottom_line.html.j2", cwd=tmp_path)
    assert again.returncode == 1 and "--force" in again.stderr


def test_eject_refuses_an_unknown_name(tmp_path: Path) -> None:
    proc = run_briefgen("templates", "eject", "partials/nope.html.j2", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no built-in template named 'partials/nope.html.j2'" in proc.stderr


def test_new_takes_an_id_with_a_language_part(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    made = run_briefgen("new", "first-brief.ru", cwd=root)
    assert made.returncode == 0, made.stderr
    assert (root / "sources" / "first-brief.ru.yaml").is_file()


def test_the_config_init_writes_holds_every_key_at_its_default(tmp_path: Path) -> None:
    """What the README says of it: change a value there and only that setting moves."""
    made = run_briefgen("init", tmp_path / "fresh", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    written = load_source(tmp_path / "fresh" / "briefgen.yaml").data
    assert set(written) == set(ProjectConfig.model_fields) - {"fonts"}  # fonts: commented out, the bundled ones
    assert load_config(tmp_path / "fresh").config == ProjectConfig()


def test_eject_suggests_the_template_a_near_name_meant(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    for asked in ("masthead.html.j2", "partials/mastead.html.j2", "masthead", "partials/masthead"):
        proc = run_briefgen("templates", "eject", asked, cwd=root)
        assert proc.returncode == 2
        assert proc.stderr.strip().endswith("did you mean 'partials/masthead.html.j2'?"), proc.stderr


def test_new_with_a_name_that_is_not_an_id_offers_one(tmp_path: Path) -> None:
    assert run_briefgen("init", "p", cwd=tmp_path).returncode == 0
    proc = run_briefgen("new", "Bad_Id", cwd=tmp_path / "p")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "Bad_Id: error: 'Bad_Id' is not a brief id: use lower-case letters, digits, hyphens and dots, e.g. 'bad-id'"
    ]
