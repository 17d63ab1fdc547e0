"""briefgen's own templates compiled once and kept beside its code: reused by the next process, never in
place of an edited template, never a reason for a brief to fail, and never for a project's templates."""

from pathlib import Path

import jinja2
from helpers import SAMPLE_ID, assert_no_traceback, make_project, run_briefgen
from jinja2.bccache import Bucket

from briefgen.compiled_templates import KEPT_IN, CompiledTemplates


class CountingEnvironment(jinja2.Environment):
    """An environment that counts the templates it compiles."""

    compiled = 0

    def compile(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        CountingEnvironment.compiled += 1
        return super().compile(*args, **kwargs)


def rendered(cache: CompiledTemplates, *folders: Path, name: str = "page.j2") -> str:
    """The template rendered by a fresh environment, as a new process would."""
    env = CountingEnvironment(loader=jinja2.FileSystemLoader([str(folder) for folder in folders]), bytecode_cache=cache)
    return env.get_template(name).render(who="reader")


def setup(tmp_path: Path, text: str = "Hello, {{ who }}.") -> tuple[CompiledTemplates, Path, Path]:
    trusted, folder = tmp_path / "builtin", tmp_path / "cache"
    trusted.mkdir()
    (trusted / "page.j2").write_text(text, encoding="utf-8")
    return CompiledTemplates(folder, trusted), trusted, folder


def test_a_template_is_compiled_once_and_loaded_by_the_next_process(tmp_path: Path) -> None:
    cache, trusted, folder = setup(tmp_path)
    CountingEnvironment.compiled = 0
    assert rendered(cache, trusted) == "Hello, reader."
    assert CountingEnvironment.compiled == 1
    assert len(list(folder.glob("*.jinja"))) == 1
    assert rendered(cache, trusted) == "Hello, reader."
    assert CountingEnvironment.compiled == 1


def test_a_template_edited_after_it_was_compiled_is_compiled_again(tmp_path: Path) -> None:
    cache, trusted, _ = setup(tmp_path)
    assert rendered(cache, trusted) == "Hello, reader."
    (trusted / "page.j2").write_text("Goodbye, {{ who }}.", encoding="utf-8")
    assert rendered(cache, trusted) == "Goodbye, reader."


def test_code_compiled_under_other_settings_is_never_loaded(tmp_path: Path) -> None:
    cache, trusted, _ = setup(tmp_path, "{% if who %}\n{{ who }}{% endif %}")
    loader = jinja2.FileSystemLoader(str(trusted))
    kept = jinja2.Environment(loader=loader, bytecode_cache=cache).get_template("page.j2").render(who="reader")
    assert kept == "\nreader"
    trimmed = jinja2.Environment(loader=loader, bytecode_cache=cache, trim_blocks=True)
    assert trimmed.get_template("page.j2").render(who="reader") == "reader"


def test_a_damaged_file_is_compiled_again_and_written_anew(tmp_path: Path) -> None:
    cache, trusted, folder = setup(tmp_path)
    rendered(cache, trusted)
    [kept] = folder.glob("*.jinja")
    good = kept.read_bytes()
    kept.write_bytes(good[:40] + b"not what was written")
    assert rendered(cache, trusted) == "Hello, reader."
    assert kept.read_bytes() == good


def test_a_folder_that_cannot_be_written_costs_a_compilation_not_the_render(tmp_path: Path) -> None:
    cache, trusted, folder = setup(tmp_path)
    folder.write_text("a file where the folder would go\n", encoding="utf-8")
    assert rendered(cache, trusted) == "Hello, reader."
    assert rendered(cache, trusted) == "Hello, reader."


def test_a_template_outside_the_trusted_folder_is_never_kept_nor_loaded_as_code(tmp_path: Path) -> None:
    cache, trusted, folder = setup(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    real = "Project page for {{ who }}."
    (project / "page.j2").write_text(real, encoding="utf-8")
    # Code that someone planted where the project's template would be kept, made to pass Jinja2's check.
    env = jinja2.Environment()
    key = cache.key(CountingEnvironment(), "page.j2", str(project / "page.j2"))  # where rendered() would look
    planted = Bucket(env, key, cache.get_source_checksum(real))
    planted.code = env.compile("PLANTED CODE RAN", "page.j2", str(project / "page.j2"))
    folder.mkdir()
    cache.dump_bytecode(planted)
    assert rendered(cache, project, trusted) == "Project page for reader."
    assert [path.name for path in folder.glob("*.jinja")] == [f"{key}.jinja"]  # nothing new kept


def test_a_projects_own_template_is_never_kept_beside_briefgens_code(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    marker = "PROJECT-PARTIAL-6d1f0c"
    (root / "templates" / "partials").mkdir(parents=True)
    partial = f'<section id="bottom-line"><p>{marker} for {{{{ analysis.brief_id }}}}</p></section>\n'
    (root / "templates" / "partials" / "bottom_line.html.j2").write_text(partial, encoding="utf-8")
    proc = run_briefgen("render", f"sources/{SAMPLE_ID}.yaml", "-o", "out.html", cwd=root)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert f"{marker} for {SAMPLE_ID}" in (root / "out.html").read_text(encoding="utf-8")
    kept = list(KEPT_IN.glob("*.jinja"))
    assert kept, "the built-in templates were not kept"
    assert not [path for path in kept if marker.encode() in path.read_bytes()]
