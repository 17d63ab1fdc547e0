"""Themes and the template search path.

Templates are looked up, first match winning, in: the project's ``templates/``,
the selected theme, the themes it extends, and briefgen's common built-ins.
A theme is a folder ``themes/NAME/`` holding a ``theme.yaml`` (a description,
and optionally the theme it extends and the most pages a brief in it should
run to) and the templates it changes. Themes are
found in the project's ``templates/themes/`` first, then among the built-ins.
"""

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, PositiveInt

from briefgen.errors import BriefgenError, Diagnostic, display_path
from briefgen.load import load_source
from briefgen.models import Identifier, Model, Text, suggestion
from briefgen.validate import validate_model

PACKAGE_DIR = Path(__file__).resolve().parent
THEME_FILE = "theme.yaml"
# Folders of the built-in tree that hold no templates of their own.
NOT_TEMPLATES = ("common/", "themes/", "scaffold/")


class ThemeFile(Model):
    description: Text
    extends: Identifier | None = None
    pages: PositiveInt | None = Field(
        None, description="The most pages a brief in this theme should run to; a longer one gets a warning."
    )


@dataclass(frozen=True)
class Theme:
    name: str
    folder: Path
    description: str
    extends: str | None
    pages: int | None
    extends_at: tuple[int | None, int | None] = (None, None)  # the line and column of theme.yaml's `extends:`


def builtin_templates_dir() -> Path:
    """briefgen's own templates: inside the package when installed from a wheel, else the repository's."""
    packaged = PACKAGE_DIR / "templates"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "templates"


def readable_roots(project_root: Path) -> tuple[Path, ...]:
    """The only folders rendering may read from: the project and briefgen's own files."""
    return (project_root, PACKAGE_DIR, builtin_templates_dir())


def project_templates_dir(project_root: Path) -> Path:
    return project_root / "templates"


def leads_out_of(path: Path, folder: Path) -> Path | None:
    """Where path leads once symlinks are resolved, when that is outside folder; else None."""
    target = Path(os.path.realpath(path))
    return None if target.is_relative_to(os.path.realpath(folder)) else target


def link_out_of_project(path: Path, target: Path, advice: str) -> Diagnostic:
    """The error for a file or folder briefgen found in the project that is a link to somewhere outside it."""
    return Diagnostic(display_path(path), f"links to {display_path(target)}, outside the project; {advice}")


def check_templates_confined(project_root: Path) -> None:
    """Raise BriefgenError when the project's templates/, or anything in it, links out of that folder.

    The template loader would refuse such a file only when a brief asks for it, and the cache keys leave
    it out; checked when the project opens, it fails every command at once, whatever a build has cached.
    """
    folder = project_templates_dir(project_root)
    if target := leads_out_of(folder, project_root):
        advice = "templates are read only from inside it: put the folder itself in the project, in place of the link"
        raise BriefgenError([link_out_of_project(folder, target, advice)])
    links = sorted(path for path in folder.rglob("*") if path.is_symlink()) if folder.is_dir() else []
    targets = {link: target for link in links if (target := leads_out_of(link, folder))}
    if targets:
        raise BriefgenError([_template_link_out(link, target, project_root) for link, target in targets.items()])


def _template_link_out(link: Path, target: Path, project_root: Path) -> Diagnostic:
    """The error for a link in templates/ to outside it: outside the project, or elsewhere in it."""
    advice = "copy the file or folder here, in place of the link"
    if leads_out_of(target, project_root):
        return link_out_of_project(link, target, f"templates are read only from inside it: {advice}")
    folder = display_path(project_templates_dir(project_root))
    message = (
        f"links to {display_path(target)}, outside {folder}/, the one project folder templates come from: {advice}"
    )
    return Diagnostic(display_path(link), message)


def available_themes(project_root: Path) -> dict[str, Theme]:
    """Every theme the project can use, by name; a project theme hides a built-in one of the same name."""
    found: dict[str, Theme] = {}
    for name, theme_file in _theme_files(project_root).items():
        document = load_source(theme_file, allow_empty=True)
        if document.data is None:
            message = "theme file is empty; give at least a description"
            raise BriefgenError([Diagnostic(display_path(theme_file), message, 1, 1)])
        spec = validate_model(document, ThemeFile)
        span = document.span(("extends",))
        extends_at = (span.key_line, span.key_column)
        found[name] = Theme(name, theme_file.parent.resolve(), spec.description, spec.extends, spec.pages, extends_at)
    return found


def theme_names(project_root: Path) -> list[str]:
    """The names of the themes the project can use, sorted, without reading their theme files."""
    return sorted(_theme_files(project_root))


def _theme_files(project_root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for themes_dir in (project_templates_dir(project_root) / "themes", builtin_templates_dir() / "themes"):
        for theme_file in sorted(themes_dir.glob(f"*/{THEME_FILE}")):
            found.setdefault(theme_file.parent.name, theme_file)
    return found


def theme_chain(project_root: Path, name: str, themes: Mapping[str, Theme] | None = None) -> list[Theme]:
    """The theme and the themes it extends, nearest first, among themes (default: the project's)."""
    themes = available_themes(project_root) if themes is None else themes
    chain: list[Theme] = []
    while name is not None:
        if name not in themes:
            extended = f"theme '{chain[-1].name}' extends unknown theme '{name}'{_hint(name, themes)}"
            message = extended if chain else no_such_theme(name, themes, project_root)
            raise BriefgenError([_at_extends(project_root, chain, message)])
        if any(theme.name == name for theme in chain):
            cycle = " -> ".join([*(theme.name for theme in chain), name])
            message = f"themes extend each other in a loop: {cycle}"
            raise BriefgenError([_at_extends(project_root, chain, message)])
        chain.append(themes[name])
        name = themes[name].extends
    return chain


def no_such_theme(name: str, themes: Iterable[str], project_root: Path | None = None) -> str:
    """What to say of a theme name the project lacks: that its folder lacks a theme file, when it has a
    folder; else a did-you-mean or the themes there are."""
    if project_root is not None and (folder := project_templates_dir(project_root) / "themes" / name).is_dir():
        shown = display_path(folder)
        return f"no theme named '{name}': {shown}/ has no {THEME_FILE}; add one with at least a description"
    return f"no theme named '{name}'{_hint(name, themes)}"


def _hint(name: str, themes: Iterable[str]) -> str:
    return suggestion(name, themes) or f"; themes: {', '.join(sorted(themes))}"


def page_budget(chain: Sequence[Theme]) -> int | None:
    """The most pages a brief should run to in the first theme of the chain: its own limit, else the
    nearest one it inherits."""
    return next((theme.pages for theme in chain if theme.pages is not None), None)


def budget_of(themes: Mapping[str, Theme], name: str) -> int | None:
    """A theme's page budget, its own or the nearest it inherits, among themes; None where a chain breaks."""
    seen: set[str] = set()
    while name in themes and name not in seen:
        if themes[name].pages is not None:
            return themes[name].pages
        seen.add(name)
        name = themes[name].extends or ""
    return None


def template_search_path(project_root: Path, theme: str) -> list[Path]:
    """Where templates are looked up, first match winning."""
    return search_path_of(project_root, theme_chain(project_root, theme))


def search_path_of(project_root: Path, chain: list[Theme]) -> list[Path]:
    """Where templates are looked up for a theme chain (theme_chain), first match winning."""
    candidates = [
        project_templates_dir(project_root),
        *(theme.folder for theme in chain),
        builtin_templates_dir() / "common",
    ]
    unique: list[Path] = []
    for candidate in candidates:
        resolved = candidate.resolve()
        if resolved.is_dir() and resolved not in unique:
            unique.append(resolved)
    return unique


def template_names(search_path: list[Path]) -> dict[str, list[Path]]:
    """Every template and asset name on the search path, with the folders that hold it, winner first."""
    names: dict[str, list[Path]] = {}
    for folder in search_path:
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            if path.is_file() and not name.startswith(NOT_TEMPLATES) and path.name != THEME_FILE:
                names.setdefault(name, []).append(folder)
    return dict(sorted(names.items()))


def _at_extends(project_root: Path, chain: list[Theme], message: str) -> Diagnostic:
    """A diagnostic at the `extends:` of the chain's last theme (the project, for an empty chain)."""
    if not chain:
        return Diagnostic(display_path(project_root), message)
    return Diagnostic(display_path(chain[-1].folder / THEME_FILE), message, *chain[-1].extends_at)
