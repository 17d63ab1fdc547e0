"""Incremental builds: a cache key per output, so unchanged briefs are not rendered again.

An output's key covers everything its bytes depend on: the source; every file on
its template search path (the project's templates, the folders of the themes it
was rendered with, briefgen's common templates, stylesheets, fonts and labels);
every theme's theme.yaml; the config and the files it names; the options that
change rendering; and the versions of briefgen and WeasyPrint. So editing one
theme rebuilds only the briefs rendered with it. Files outside those folders
that a brief loaded while printing (an image the template names, say) are
recorded with their hashes and checked too. Nothing here imports WeasyPrint, so
a build with nothing to do stays fast.
"""

import hashlib
import importlib.metadata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from briefgen import __version__
from briefgen.config import CONFIG_NAME
from briefgen.pipeline import Format, Project
from briefgen.theming import THEME_FILE, builtin_templates_dir, project_templates_dir


def shared_digest(project: Project) -> str:
    """The digest of what every brief of the project depends on: the versions and options that change
    rendering, and all files but those inside theme folders (their theme.yaml files included, which every
    brief reads)."""
    versions_and_options = (
        __version__,
        importlib.metadata.version("weasyprint"),
        project.theme or "",
        *project.allowed_hosts,
    )
    config = project.root / CONFIG_NAME
    named = [project.config.brand.logo] + [
        path
        for family in (project.config.fonts.body, project.config.fonts.headings)
        if family is not None
        for path in (family.regular, family.italic, family.bold)
    ]
    files = [config, *(project.root / name for name in named if name)]
    for folder in _template_folders(project):
        files.extend(path for path in _files(folder) if _theme_of(path, folder) is None or path.name == THEME_FILE)
    return _digest(project, files, versions_and_options)


def theme_digests(project: Project) -> dict[str, str]:
    """For each theme folder name, in the project or built in, the digest of its files (theme.yaml aside)."""
    by_theme: dict[str, list[Path]] = {}
    for folder in _template_folders(project):
        for path in _files(folder):
            if (theme := _theme_of(path, folder)) is not None and path.name != THEME_FILE:
                by_theme.setdefault(theme, []).append(path)
    return {theme: _digest(project, files) for theme, files in sorted(by_theme.items())}


def _template_folders(project: Project) -> tuple[Path, Path]:
    return project_templates_dir(project.root), builtin_templates_dir()


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if _inside(path, folder) and path.is_file())


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
        digest.update(name.encode("utf-8") + b"\0" + (file_hash(path) or "absent").encode("ascii") + b"\0")
    return digest.hexdigest()


def _portable_name(path: Path, project: Project) -> str:
    """A file's path relative to the project (or, with a prefix, to briefgen's templates), else as given."""
    for prefix, folder in (("", project.root), ("briefgen:", builtin_templates_dir())):
        if path.is_relative_to(folder):
            return prefix + path.relative_to(folder).as_posix()
    return str(path)


def _inside(path: Path, folder: Path) -> bool:
    """Whether a path stays inside its folder once symlinks are resolved (others are never read)."""
    return path.resolve().is_relative_to(folder.resolve())


def cache_key(
    source_hash: str | None,
    output_format: Format,
    edition: str | None,
    themes: Sequence[str],
    shared: str,
    digests: Mapping[str, str],
) -> str:
    """The key of one output of one source (by its file_hash), in one edition, rendered with a theme and
    the themes it extends (their digests from theme_digests)."""
    parts = [shared, str(output_format), edition or "", source_hash or "absent"]
    parts += [f"{theme}={digests.get(theme, 'absent')}" for theme in themes]
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
