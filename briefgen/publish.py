"""Stage 6, publish: put rendered briefs into the build folder and keep its manifest.

Every file is written to a temporary name in the same folder and moved into
place, so a failed or interrupted build never leaves a half-written output, and
one build at a time holds the folder.
"""

import contextlib
import dataclasses
import fcntl
import hashlib
import itertools
import json
import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from briefgen.errors import BriefgenError, Diagnostic, UsageError, display_path
from briefgen.incremental import KeyInputs, catalogue_key, file_hash, inputs_unchanged, recorded_inputs
from briefgen.load import brief_id
from briefgen.pipeline import Format, Project, RenderedBrief, distinct_sources, render_index
from briefgen.trace import holds_distribution_manifest

MANIFEST_NAME = "manifest.json"
INDEX_NAME = "index.html"
TEMPORARY_SUFFIX = ".briefgen-tmp"
# Names the command holding an output folder, for the message a second one gets; one left by a command that was
# killed goes with the temporary files.
HOLDER_NOTE = f".holder{TEMPORARY_SUFFIX}"
COMMANDS = ("build", "distribute")


class CatalogueFailed(BriefgenError):
    """The catalogue page could not be rendered; the manifest at `manifest` lists what the build made."""

    def __init__(self, diagnostics: Iterable[Diagnostic], manifest: Path) -> None:
        super().__init__(diagnostics)
        self.manifest = manifest


class Status(StrEnum):
    BUILT = "built"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class BriefResult:
    """What became of one source in a build, with its manifest entry unless it failed.

    position is its place in the build's order (the sources as given, each in every edition in turn), which
    does not depend on when it finished.
    """

    source: Path
    position: int
    status: Status
    entry: dict[str, Any] | None = None
    errors: tuple[Diagnostic, ...] = ()
    rendered: tuple[Format, ...] = ()  # the formats rendered now; the entry may list others, kept up to date


def build(
    sources: Sequence[Path],
    project: Project,
    out_dir: Path,
    formats: Collection[Format],
    on_result: Callable[[BriefResult], None],
    *,
    editions: Sequence[str | None] = (None,),
    jobs: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    on_removed: Callable[[list[str]], None] = lambda brief_ids: None,
    on_outdated: Callable[[list[str]], None] = lambda paths: None,
    on_changed: Callable[[int], None] = lambda count: None,
    on_warning: Callable[[Diagnostic], None] = lambda warning: None,
) -> Path:
    """Render and publish every source, in every edition, into out_dir; one failure never stops the rest.

    Several editions go into out_dir/EDITION/. Outputs whose cache key and recorded inputs are unchanged
    are skipped unless force. Calls on_result once per brief and edition as it finishes (with its place in
    the build's order, to report in an order that timing does not change), writes the manifest and the
    catalogue page, and returns the manifest's path. The outputs of briefs whose source
    is gone are deleted, and on_removed gets their ids. An earlier output in a format not asked for stays
    listed while it is up to date; one that is not is deleted, and on_outdated gets its path.

    A brief whose source or templates changed while the build ran may have been rendered from either state:
    its outputs are written without a cache key, so the next build renders it again, and on_changed gets how
    many briefs (in each edition) that was, when there were any. on_warning is told of a worker process
    that died (the brief it was rendering is rendered again; one that a worker dies on twice fails), and of
    more workers started than there are cores.
    """
    from briefgen.batch import Executor, RenderTask, render_all
    from briefgen.cluster import ClusterLost

    formats = tuple(sorted(formats))
    sources = distinct_sources(sources)
    for edition in editions:
        project.check_edition(edition)
    check_output_folder(out_dir, project, "the build", "build", _not_a_build_folder)
    with exclusive(out_dir, "build"):
        # What the keys cover is read before anything renders; a brief that saw a file change is keyed by none.
        state = _BuildFolder(out_dir, project, sources, formats, len(editions) > 1)
        entries, tasks, changed = [], [], 0
        positions = {pair: number for number, pair in enumerate(itertools.product(sources, editions))}
        for (source, edition), position in positions.items():
            earlier = state.earlier(source, edition)
            if not force and earlier is not None and state.up_to_date(earlier, source, edition):
                entry = state.with_other_formats(_current(earlier), earlier, source)
                entries.append(entry)
                on_result(BriefResult(source, position, Status.SKIPPED, entry))
            else:
                tasks.append(RenderTask(source, project, formats, edition))
        try:
            with Executor(jobs, scheduler, on_warning) as executor:
                for result in render_all(tasks, executor):
                    source, edition = result.task.source, result.task.edition
                    earlier, position = state.earlier(source, edition), positions[source, edition]
                    try:
                        if result.rendered is None:
                            raise BriefgenError(result.errors)
                        output_keys: Mapping[Format, str | None] = state.keys(source, edition, result.rendered.themes)
                        if state.inputs.changed(source, result.rendered.themes):
                            output_keys = dict.fromkeys(output_keys)
                            changed += 1
                        entry = publish(result.rendered, state.folder(edition), out_dir, project, output_keys)
                        entry = state.with_other_formats(entry, earlier, source)
                    except BriefgenError as exc:
                        if earlier is not None:  # its outputs stay, marked as those of an earlier build
                            entries.append({**earlier, "outdated": True, "errors": list(map(str, exc.diagnostics))})
                        on_result(BriefResult(source, position, Status.FAILED, errors=exc.diagnostics))
                        continue
                    entries.append(entry)
                    on_result(BriefResult(source, position, Status.BUILT, entry, rendered=formats))
        except (KeyboardInterrupt, ClusterLost):  # a build stopped midway keeps what it finished, for the next to skip
            with contextlib.suppress(CatalogueFailed):
                write_manifest(out_dir, entries, project, on_removed)
            raise
        if state.outdated:
            on_outdated(sorted(state.outdated))
        if changed:
            on_changed(changed)
        return write_manifest(out_dir, entries, project, on_removed)


class _BuildFolder:
    """The output folder as a build finds it (its earlier manifest), and the cache keys its outputs must have.

    Several editions go into folders of their own. `outdated` collects the outputs, in formats the build
    leaves alone, that it deleted as out of date.
    """

    def __init__(
        self, out_dir: Path, project: Project, sources: Sequence[Path], formats: Sequence[Format], by_edition: bool
    ) -> None:
        self.out_dir, self.project, self.formats, self.by_edition = out_dir, project, formats, by_edition
        self.previous = {_entry_key(entry): entry for entry in _entries(_read_manifest(out_dir / MANIFEST_NAME))}
        self.inputs = KeyInputs(project, sources)
        self.outdated: list[str] = []

    def folder(self, edition: str | None) -> Path:
        return self.out_dir / edition if self.by_edition and edition else self.out_dir

    def earlier(self, source: Path, edition: str | None) -> dict[str, Any] | None:
        """The earlier manifest's entry for this brief and edition, if any."""
        place = self.folder(edition).relative_to(self.out_dir).as_posix()
        return self.previous.get(f"{place}/{brief_id(source)}")

    def keys(
        self, source: Path, edition: str | None, themes: Sequence[str], wanted: Collection[Format] | None = None
    ) -> dict[Format, str]:
        """The cache key of each wanted output (by default, each of the build's formats)."""
        return {
            output_format: self.inputs.key(source, output_format, edition, themes)
            for output_format in (self.formats if wanted is None else wanted)
        }

    def up_to_date(
        self, entry: dict[str, Any], source: Path, edition: str | None, wanted: Collection[Format] | None = None
    ) -> bool:
        """Whether a manifest entry's outputs (those in the wanted formats, by default the build's) are still
        what a render would write: the keys of the themes it was rendered with match, the files are there,
        and what it read beyond the templates is unchanged."""
        themes = entry.get("themes")
        if not isinstance(themes, list) or not all(isinstance(theme, str) for theme in themes):
            return False  # a manifest from before themes were recorded
        outputs = entry.get("outputs", {})
        for output_format, key in self.keys(source, edition, themes, wanted).items():
            output = outputs.get(str(output_format), {})
            path = self.out_dir / output.get("path", "")
            if output.get("cache_key") != key or not path.is_file() or path.stat().st_size != output.get("bytes"):
                return False
        return inputs_unchanged(entry.get("inputs", {}), self.project)

    def with_other_formats(self, entry: dict[str, Any], earlier: dict[str, Any] | None, source: Path) -> dict[str, Any]:
        """The entry, with the earlier entry's outputs in formats this build leaves alone that are still up to
        date; those that are not are deleted."""
        others = [f for f in Format if f not in self.formats and str(f) in (earlier or {}).get("outputs", {})]
        if earlier is None or not others:
            return entry
        current = self.up_to_date(earlier, source, entry.get("edition"), others)
        outputs = {name: output for name, output in entry["outputs"].items() if name in map(str, self.formats)}
        kept = {**entry, "outputs": outputs, "inputs": dict(entry.get("inputs", {}))}
        for output_format in others:
            output = earlier["outputs"][str(output_format)]
            if current:
                kept["outputs"][str(output_format)] = output
                kept["inputs"].update(earlier.get("inputs", {}))
            elif remove_output(self.out_dir, output.get("path", "")):
                self.outdated.append(output["path"])
        kept["outputs"] = dict(sorted(kept["outputs"].items()))
        kept["inputs"] = dict(sorted(kept["inputs"].items()))
        return kept


def _current(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry found up to date: no longer marked as left from an earlier build by a failed one."""
    return {key: value for key, value in entry.items() if key not in ("outdated", "errors")}


def check_output_folder(
    out_dir: Path, project: Project, who: str, suggested: str, folder_problem: Callable[[Path], str | None]
) -> None:
    """Refuse, as bad usage, an output folder for `who` (the build, distribute) that is or holds the project
    folder, lies in its sources or templates or inside another build's or distribution's folder, or whose
    contents folder_problem finds fault with (says what is wrong; None when nothing is)."""
    out, root = out_dir.resolve(), project.root.resolve()
    inside = [f"is the project's {name}" for name in ("sources", "templates") if out.is_relative_to(root / name)]
    if root.is_relative_to(out):
        problem = "is the project folder" if out == root else "holds the project folder"
    elif inside:
        problem = inside[0]
    elif enclosing := _enclosing_output_folder(out):
        folder, kind = enclosing
        message = f"--out: {display_path(out_dir)} lies inside {display_path(folder)}, {kind}'s output folder"
        raise UsageError([Diagnostic("briefgen", f"{message}; give {who} a folder of its own, outside it")])
    elif (problem := folder_problem(out_dir)) is None:
        return
    elif out.parent / out.name == (project.root / suggested).resolve():  # the usual folder itself: name no other
        advice = f"move what it holds away if it can go, or give {who} another folder with --out"
        raise UsageError([Diagnostic("briefgen", f"--out: {display_path(out_dir)} {problem}; {advice}")])
    message = f"--out: {display_path(out_dir)} {problem}; give {who} a folder of its own, such as {suggested}"
    raise UsageError([Diagnostic("briefgen", message)])


def _enclosing_output_folder(out: Path) -> tuple[Path, str] | None:
    """The nearest folder above out that holds a build's or a distribution's manifest, with which of the two
    ("a build", "a distribution"); None when there is none."""
    for folder in out.parents:
        if holds_build_manifest(folder / MANIFEST_NAME):
            return folder, "a build"
        if holds_distribution_manifest(folder / MANIFEST_NAME):
            return folder, "a distribution"
    return None


def _not_a_build_folder(folder: Path) -> str | None:
    """What is wrong with building into folder, whose manifest.json and index.html a build replaces: a
    manifest.json that is not a build's (a distribution's, the only record of whom each stamped copy went to,
    or anyone's), or an index.html with no build's manifest beside it (a build writes the two together, so
    that one is not its catalogue); None when nothing is."""
    manifest, index = folder / MANIFEST_NAME, folder / INDEX_NAME
    if holds_distribution_manifest(manifest):
        return f"holds a distribution (its {MANIFEST_NAME} lists stamped copies, and a build would replace it)"
    if manifest.exists() and not holds_build_manifest(manifest):
        return f"holds a {MANIFEST_NAME} that is not a build's, which a build replaces"
    if index.exists() and not manifest.exists():
        return (
            f"holds an {INDEX_NAME} that no build wrote (no build's {MANIFEST_NAME} beside it), which a build replaces"
        )
    return None


def holds_build_manifest(path: Path) -> bool:
    """Whether a file is a build's manifest, its briefs listed as every briefgen has written it (False when it
    is missing or unreadable)."""
    document = _read_manifest(path)
    return isinstance(document.get("briefs"), list) and "copies" not in document


def _entry_key(entry: dict[str, Any]) -> str:
    """Entries are told apart by where their outputs go: a folder and a brief id."""
    paths = [output.get("path", "") for output in entry.get("outputs", {}).values()]
    return f"{PurePosixPath(paths[0]).parent if paths else '.'}/{entry['id']}"


@contextlib.contextmanager
def exclusive(out_dir: Path, command: str) -> Iterator[None]:
    """Hold the output folder for one briefgen command (`command`, one of COMMANDS) at a time, after checking it
    can be written.

    A second command into the same folder is refused at once, never interleaved, with a message naming the
    command that holds it. Temporary files left by a command that was killed are removed once the folder is
    held. A folder made for a command that then wrote nothing into it (its scheduler unreachable, say) is
    removed again.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise BriefgenError([Diagnostic(display_path(out_dir), "cannot use output folder: it is a file")])
    made = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = os.open(out_dir, os.O_RDONLY)
    except OSError as exc:
        raise BriefgenError([Diagnostic(display_path(out_dir), f"cannot use output folder: {exc.strerror}")]) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = f"{_holder(out_dir)} is writing this folder; run again when it ends"
            raise BriefgenError([Diagnostic(display_path(out_dir), message)]) from None
        for stale in out_dir.glob(f".*{TEMPORARY_SUFFIX}"):
            stale.unlink(missing_ok=True)
        _check_writable(out_dir)
        note = out_dir / HOLDER_NOTE
        with contextlib.suppress(OSError):  # a full disk, say: only the message of a second command needs it
            note.write_text(command, encoding="utf-8")
        try:
            yield
        finally:
            note.unlink(missing_ok=True)  # before the folder is let go, so a next holder's note stays
    finally:
        os.close(handle)
        if made:
            with contextlib.suppress(OSError):  # not empty: the command wrote into it
                out_dir.rmdir()


def _holder(out_dir: Path) -> str:
    """Who holds the folder, as its note says ("another briefgen distribute"); "another briefgen command" when
    the note cannot tell (not written yet, or the lock taken by something else)."""
    try:
        command = (out_dir / HOLDER_NOTE).read_text(encoding="utf-8")
    except (OSError, ValueError):
        command = ""
    return f"another briefgen {command if command in COMMANDS else 'command'}"


def _check_writable(folder: Path) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise BriefgenError([Diagnostic(display_path(folder), f"cannot write output folder: {exc.strerror}")]) from None


def write_atomically(path: Path, data: bytes) -> None:
    """Write bytes to path through a temporary file in the same folder, then rename it into place."""
    _put_in_place([_staged(path, data)])


def _staged(path: Path, data: bytes) -> tuple[Path, Path]:
    """Write bytes to a temporary file beside path, to be put in place later; (the temporary file, path)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
    except OSError as exc:
        raise BriefgenError(
            [Diagnostic(display_path(path.parent), f"cannot write output folder: {exc.strerror}")]
        ) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise BriefgenError([Diagnostic(display_path(path), f"cannot write output: {exc.strerror}")]) from None
    return Path(temporary), path


def _put_in_place(staged: Sequence[tuple[Path, Path]]) -> None:
    """Rename staged files into place; what was not renamed when one fails is removed."""
    for index, (temporary, path) in enumerate(staged):
        try:
            os.replace(temporary, path)
        except OSError as exc:
            for left, _ in staged[index:]:
                left.unlink(missing_ok=True)
            raise BriefgenError([Diagnostic(display_path(path), f"cannot write output: {exc.strerror}")]) from None


def publish(
    rendered: RenderedBrief, folder: Path, out_dir: Path, project: Project, keys: Mapping[Format, str | None]
) -> dict[str, Any]:
    """Write one brief's outputs into folder (inside out_dir); return its manifest entry, each output with its
    cache key (None: one that no build takes to be up to date).

    Every output is written in full before any is put in place: when one cannot be written (a full disk),
    the brief keeps all the outputs of its last good build rather than a mix of old and new.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for output_format, data in sorted(rendered.outputs.items()):
            staged.append(_staged(folder / f"{rendered.brief_id}.{output_format}", data))
    except BriefgenError:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    _put_in_place(staged)
    outputs = {}
    for (output_format, data), (_, target) in zip(sorted(rendered.outputs.items()), staged, strict=True):
        outputs[str(output_format)] = {
            "path": target.relative_to(out_dir).as_posix(),
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            **({"pages": rendered.pages} if output_format == "pdf" else {}),
            "cache_key": keys[output_format],
        }
    return {
        "id": rendered.brief_id,
        "edition": rendered.edition,
        "source": _relative(rendered.source, project.root),
        "summary": dataclasses.asdict(rendered.summary),
        "outputs": outputs,
        "themes": list(rendered.themes),
        "inputs": recorded_inputs(rendered.files_read, project),
        "warnings": [str(warning) for warning in rendered.warnings],
    }


def write_manifest(
    out_dir: Path,
    entries: Iterable[dict[str, Any]],
    project: Project,
    on_removed: Callable[[list[str]], None] = lambda brief_ids: None,
) -> Path:
    """Merge this build's entries into the manifest; briefs whose source is gone leave it, with their outputs,
    and on_removed gets their ids (once each, whatever their editions) when there are any.

    The catalogue page is rendered again only when what it shows may have changed: the manifest records
    its key (the briefs listed, what every brief depends on, the catalogue templates) and its page's hash.
    """
    path = out_dir / MANIFEST_NAME
    previous = _read_manifest(path)
    merged, removed = {}, []
    for entry in _entries(previous):
        if (project.root / entry.get("source", "")).is_file():
            merged[_entry_key(entry)] = entry
        else:
            for output in entry.get("outputs", {}).values():
                remove_output(out_dir, output.get("path", ""))
            removed.append(entry["id"])
    if removed:
        on_removed(sorted(set(removed)))
    merged.update((_entry_key(entry), entry) for entry in entries)
    briefs = [merged[key] for key in sorted(merged)]
    catalogue = {"key": catalogue_key(briefs, project), "sha256": file_hash(out_dir / INDEX_NAME)}
    index = None
    if previous.get("catalogue") != catalogue or catalogue["sha256"] is None:
        try:
            index = render_index(briefs, project).encode("utf-8")
        except BriefgenError as exc:  # an earlier catalogue would list another set of briefs than the manifest
            (out_dir / INDEX_NAME).unlink(missing_ok=True)
            _write_json(path, {"briefs": briefs})
            raise CatalogueFailed(exc.diagnostics, path) from None
        catalogue["sha256"] = hashlib.sha256(index).hexdigest()
    _write_json(path, {"briefs": briefs, "catalogue": catalogue})
    if index is not None:
        write_atomically(out_dir / INDEX_NAME, index)
    return path


def _write_json(path: Path, document: dict[str, Any]) -> None:
    write_atomically(path, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def remove_output(out_dir: Path, relative: str) -> bool:
    """Delete an output a manifest listed, if it lies inside the output folder; whether one was deleted."""
    path = (out_dir / relative).resolve()
    if relative and path.is_relative_to(out_dir.resolve()) and path.is_file():
        path.unlink()
        return True
    return False


def _read_manifest(path: Path) -> dict[str, Any]:
    """A manifest.json's document; empty when it is missing or not a JSON object."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _entries(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entries of a manifest; none when it is not briefgen's."""
    entries = manifest.get("briefs")
    if not isinstance(entries, list):
        return []
    return [entry for entry in entries if isinstance(entry, dict) and isinstance(entry.get("id"), str)]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())
