"""Starting points: a new project, a new source, an editable copy of a built-in template."""

import re
import shutil
from pathlib import Path, PurePosixPath

from briefgen.config import CONFIG_NAME
from briefgen.errors import BriefgenError, Diagnostic, UsageError, display_path
from briefgen.models import BRIEF_ID_PATTERN, closest
from briefgen.theming import (
    builtin_templates_dir,
    leads_out_of,
    link_out_of_project,
    project_templates_dir,
    template_names,
    template_search_path,
)
from briefgen.validate import suggested_id

STARTER_ID = "first-brief"


def init_project(folder: Path) -> list[Path]:
    """Create a project that builds at once: config, one starter source, an empty templates/ folder."""
    if (folder / CONFIG_NAME).exists() or (folder / "sources").exists():
        raise BriefgenError([Diagnostic(display_path(folder), "already holds a briefgen project")])
    _refuse_links_out(folder, folder / "sources" / f"{STARTER_ID}.yaml")
    scaffold = builtin_templates_dir() / "scaffold"
    created = [folder / CONFIG_NAME, project_templates_dir(folder), folder / "build"]
    try:
        for path in created[1:]:
            path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(scaffold / "briefgen.yaml", folder / CONFIG_NAME)
    except OSError as exc:
        raise BriefgenError([Diagnostic(display_path(folder), f"cannot create project: {exc.strerror}")]) from None
    return [*created, new_source(folder, STARTER_ID)]


def new_source(project_root: Path, brief_id: str) -> Path:
    """Add sources/ID.yaml from the starter source."""
    if not re.fullmatch(BRIEF_ID_PATTERN, brief_id):
        message = (
            f"'{brief_id}' is not a brief id: use lower-case letters, digits, hyphens and dots, "
            f"e.g. '{suggested_id(brief_id)}'"
        )
        raise UsageError([Diagnostic(brief_id, message)])
    target = project_root / "sources" / f"{brief_id}.yaml"
    _refuse_links_out(project_root, target)
    if target.exists():
        raise BriefgenError([Diagnostic(display_path(target), "already exists")])
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(builtin_templates_dir() / "scaffold" / "source.yaml", target)
    except OSError as exc:
        raise BriefgenError([Diagnostic(display_path(target), f"cannot write: {exc.strerror}")]) from None
    return target


def _refuse_links_out(project_root: Path, target: Path) -> None:
    """Raise BriefgenError, before anything is written, when sources/ or the new source's own path is a link
    leading out of the project: writing through it would put the source elsewhere."""
    advice = "briefgen writes a new source only inside the project"
    if outside := leads_out_of(target.parent, project_root):
        fix = "put the folder itself in the project, in place of the link"
        raise BriefgenError([link_out_of_project(target.parent, outside, f"{advice}: {fix}")])
    if outside := leads_out_of(target, project_root):
        fix = "remove the link, or choose another id"
        raise BriefgenError([link_out_of_project(target, outside, f"{advice}: {fix}")])


def eject_template(project_root: Path, theme: str, name: str, force: bool = False) -> Path:
    """Copy the template that the theme would use for name into the project's templates/ for editing."""
    project_dir = project_templates_dir(project_root).resolve()
    layers = [folder for folder in template_search_path(project_root, theme) if folder != project_dir]
    names = template_names(layers)
    if name not in names:
        same_file = [known for known in names if _bare(known) == _bare(name)]
        meant = same_file[0] if same_file else closest(name, names)
        hint = f"did you mean '{meant}'?" if meant else "'briefgen templates list' shows them"
        message = f"no built-in template named '{name}'; {hint}"
        raise UsageError([Diagnostic(name, message)])
    target = project_dir / name
    if target.exists() and not force:
        raise BriefgenError([Diagnostic(display_path(target), "already exists (use --force to replace it)")])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(names[name][0] / name, target)
    return target


def _bare(name: str) -> str:
    """A template's file name without its folder or suffixes: 'partials/masthead.html.j2' is 'masthead'."""
    return PurePosixPath(name).name.split(".")[0]
