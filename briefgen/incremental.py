"""Incremental builds: a cache key per output, so unchanged briefs are not rendered again.

An output's key covers everything its bytes depend on: the source; every file on
its template search path (the project's templates, the folders of the themes it
was rendered with, briefgen's common templates, stylesheets, fonts and labels);
every theme's settings (its theme.yaml as read, not its bytes); the config's
values and the files it names; the options that change rendering; and the
versions of briefgen and WeasyPrint. So editing one theme rebuilds only the
briefs rendered with it. Hidden files (editor swap files, a .git folder) and the
catalogue's and the stamps' templates are left out, unless another template
file names them. Files outside those folders that a brief loaded while printing
(an image the template names, say) are recorded with their hashes and checked
too. Nothing here imports WeasyPrint, so a build with nothing to do stays fast.

A render reads its files while the build runs, after the keys were computed:
KeyInputs tells, as each brief comes back, whether a file its keys cover has
changed since, so that its outputs are not recorded under a key they may not match.
"""

import hashlib
import importlib.metadata
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from briefgen import __version__
from briefgen.errors import BriefgenError
from briefgen.load import load_source
from briefgen.pipeline import Format, Project
from briefgen.render_html import CATALOGUE_TEMPLATE, STAMP_TEMPLATE
from briefgen.theming import THEME_FILE, ThemeFile, builtin_templates_dir, project_templates_dir
from briefgen.validate import validate_model

# The group of files every brief's keys cover; the others are named after the theme whose folder holds them.
SHARED = ""
CANNOT_NAME_FILES = {".ttf", ".otf", ".woff", ".woff2", ".png", ".jpg", ".jpeg", ".gif", ".webp"}  # fonts, images
# Templates no brief renders: the catalogue page's, read by every build anyway, and the stamps', read by distribute.
NOT_FOR_BRIEFS = (CATALOGUE_TEMPLATE, STAMP_TEMPLATE)

# What tells one state of a file from another without reading it: any write changes its ctime (which no
# program can set back), so an edit made and undone still shows. None for a file that is not there.
Signature = tuple[int, int, int, int] | None


class KeyInputs:
    """What a build's cache keys are computed from, read once at its start: the digests the keys are made of,
    and the state of the files they were read from.

    A worker reads the templates and the source when it renders, later. `changed` tells whether a file a
    brief's keys cover changed since the start: its outputs may then not be what its keys describe.
    """

    def __init__(self, project: Project, sources: Iterable[Path]) -> None:
        self.project = project
        self.sources = {source: _signature(source) for source in sources}  # each taken before the file is read
        self.everything = _everything(project)  # first, as a file changed while the keys are read must count
        groups = key_files(project)
        self.files = {group: _signatures(files) for group, files in groups.items()}
        self.shared = _shared_digest(project, groups.get(SHARED, []))
        self.themes = {theme: _digest(project, files) for theme, files in groups.items() if theme != SHARED}
        self.source_hashes = {source: file_hash(source) for source in self.sources}

    def key(self, source: Path, output_format: Format, edition: str | None, themes: Sequence[str]) -> str:
        """The key of one output of a source, in an edition, rendered with a theme and those it extends."""
        return cache_key(self.source_hashes[source], output_format, edition, themes, self.shared, self.themes)

    def changed(self, source: Path, themes: Sequence[str]) -> bool:
        """Whether the source, or a file the keys of a brief rendered with these themes cover, is not as it was
        when the keys were computed (changed, added or removed, even if changed back since)."""
        if _signature(source) != self.sources.get(source):
            return True
        if _everything(self.project) == self.everything:  # nothing changed anywhere: no need to read a file
            return False
        now = key_files(self.project)
        return any(_signatures(now.get(group, [])) != self.files.get(group, {}) for group in (SHARED, *themes))


def shared_digest(project: Project) -> str:
    """The digest of what every brief of the project depends on: the versions, options and config values that
    change rendering, the files the config names, every theme's settings, and the template files outside
    theme folders."""
    return _shared_digest(project, key_files(project).get(SHARED, []))


def _shared_digest(project: Project, files: Iterable[Path]) -> str:
    versions_options_and_config = (
        __version__,
        importlib.metadata.version("weasyprint"),
        project.theme or "",
        *project.allowed_hosts,
        json.dumps(project.config.model_dump(mode="json"), sort_keys=True),  # its values: not its comments
    )
    return _digest(project, files, versions_options_and_config)


def key_files(project: Project) -> dict[str, list[Path]]:
    """The files the keys cover, by group: SHARED (the files the config names, every theme.yaml, the templates
    outside theme folders) and, for each theme folder, its other files."""
    groups: dict[str, list[Path]] = {SHARED: _named_files(project)}
    for folder in (project_templates_dir(project.root), builtin_templates_dir()):
        for path in _brief_files(folder):
            theme = _theme_of(path, folder)
            groups.setdefault(SHARED if theme is None or path.name == THEME_FILE else theme, []).append(path)
    return groups


def _brief_files(folder: Path) -> list[Path]:
    """The files of a template folder a brief's render may read: all but those only other pages use and hidden
    ones, unless a file that stays names them (a template including a hidden partial, say)."""
    resolved = folder.resolve()  # a symlink leading out of the folder is never read
    files = sorted(path for path in folder.rglob("*") if path.resolve().is_relative_to(resolved) and path.is_file())
    waiting = {path: name for path in files if (name := _set_aside_as(path.relative_to(folder).parts))}
    kept = [path for path in files if path not in waiting]
    newly_kept = kept
    while waiting and newly_kept:
        texts = [_read(path) for path in newly_kept if path.suffix.lower() not in CANNOT_NAME_FILES]
        newly_kept = [path for path, name in waiting.items() if any(name.encode() in text for text in texts)]
        for path in newly_kept:
            del waiting[path]
        kept += newly_kept
    return sorted(kept)


def _set_aside_as(parts: tuple[str, ...]) -> str | None:
    """For a file no brief is expected to read (by its path in a template folder), the name a template would
    name it by; None for the others."""
    hidden = next((index for index, part in enumerate(parts) if part.startswith(".")), None)
    if hidden is not None:
        return "/".join(parts[hidden:])
    at_root = (
        len(parts) == 1 or (len(parts) == 2 and parts[0] == "common") or (len(parts) == 3 and parts[0] == "themes")
    )
    return parts[-1] if at_root and parts[-1] in NOT_FOR_BRIEFS else None


def _theme_of(path: Path, folder: Path) -> str | None:
    """The theme whose folder (folder/themes/NAME/) holds path, if any."""
    parts = path.relative_to(folder).parts
    return parts[1] if len(parts) > 2 and parts[0] == "themes" else None


def _digest(project: Project, files: Iterable[Path], parts: Iterable[str] = ()) -> str:
    """The digest of some strings and of files, each named by where it lies relative to the project or to
    briefgen's templates: a project moved or checked out elsewhere keeps its keys."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") + b"\0")
    for path in files:
        name = _portable_name(path, project)
        content = _theme_settings_hash(path) if path.name == THEME_FILE else file_hash(path)
        digest.update(name.encode("utf-8") + b"\0" + (content or "absent").encode("ascii") + b"\0")
    return digest.hexdigest()


def _theme_settings_hash(path: Path) -> str | None:
    """The digest of what a theme.yaml sets for rendering (its description is only for `templates list`), so
    a comment or a blank line changes nothing; of its bytes when it cannot be read as one."""
    try:
        settings = validate_model(load_source(path), ThemeFile).model_dump(mode="json", exclude={"description"})
    except BriefgenError:
        return file_hash(path)
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode("utf-8")).hexdigest()


def _portable_name(path: Path, project: Project) -> str:
    """A file's path relative to the project (or, with a prefix, to briefgen's templates), else as given."""
    for prefix, folder in (("", project.root), ("briefgen:", builtin_templates_dir())):
        if path.is_relative_to(folder):
            return prefix + path.relative_to(folder).as_posix()
    return str(path)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _signature(path: Path) -> Signature:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


def _signatures(files: Iterable[Path]) -> dict[Path, Signature]:
    return {path: _signature(path) for path in files}


def _named_files(project: Project) -> list[Path]:
    """The files the config names: the logo and the fonts."""
    config = project.config
    named = [config.brand.logo] + [
        path
        for family in (config.fonts.body, config.fonts.headings)
        if family is not None
        for path in (family.regular, family.italic, family.bold)
    ]
    return [project.root / name for name in named if name]


def _everything(project: Project) -> dict[Path, Signature]:
    """The state of every file in the template folders, and of the files the config names, found without
    reading any: a quick first look for a change, before the files the keys cover are sorted out."""
    folders = (project_templates_dir(project.root), builtin_templates_dir())
    return _signatures([*_named_files(project), *(path for folder in folders for path in sorted(folder.rglob("*")))])


def cache_key(
    source_hash: str | None,
    output_format: Format,
    edition: str | None,
    themes: Sequence[str],
    shared: str,
    digests: Mapping[str, str],
) -> str:
    """The key of one output of one source (by its file_hash), in one edition, rendered with a theme and
    the themes it extends (their digests, by theme folder name)."""
    parts = [shared, str(output_format), edition or "", source_hash or "absent"]
    parts += [f"{theme}={digests.get(theme, 'absent')}" for theme in themes]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def catalogue_key(briefs: Sequence[Mapping[str, object]], project: Project) -> str:
    """The key of a build folder's catalogue page: the manifest's entries it lists, what every brief depends on
    (versions, config, the template files outside theme folders: labels, macros), and every catalogue
    template on the search path."""
    templates = [
        path
        for folder in (project_templates_dir(project.root), builtin_templates_dir())
        for path in sorted(folder.rglob(CATALOGUE_TEMPLATE))
    ]
    parts = [shared_digest(project), json.dumps(briefs, sort_keys=True, ensure_ascii=False)]
    parts += [f"{_portable_name(path, project)}={file_hash(path) or 'absent'}" for path in templates]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def file_hash(path: Path) -> str | None:
    """The sha256 of a regular file's content, or None when it is not one or cannot be read."""
    if not path.is_file():
        return None
    try:
        with path.open("rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()
    except OSError:
        return None


def recorded_inputs(paths: Iterable[Path], project: Project) -> dict[str, str]:
    """The project files a render loaded beyond the tracked folders, with their hashes, for the manifest."""
    root = project.root.resolve()
    tracked = (project_templates_dir(project.root).resolve(), builtin_templates_dir().resolve())
    inputs = {}
    for path in paths:
        resolved = path.resolve()
        if resolved.is_relative_to(root) and not any(resolved.is_relative_to(folder) for folder in tracked):
            inputs[resolved.relative_to(root).as_posix()] = file_hash(resolved) or "absent"
    return dict(sorted(inputs.items()))


def inputs_unchanged(inputs: Mapping[str, str], project: Project) -> bool:
    """Whether every recorded input still has the content it had."""
    return all(file_hash(project.root / name) == digest for name, digest in inputs.items())
