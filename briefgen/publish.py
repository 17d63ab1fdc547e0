"""Stage 6, publish: put rendered briefs into the build folder and keep its manifest.

Every file is written to a temporary name in the same folder and moved into
place, so a failed or interrupted build never leaves a half-written output, and
one build at a time holds the folder.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefgen.errors import BriefgenError, Diagnostic
from briefgen.pipeline import Format, Project, RenderedBrief, render_brief

MANIFEST_NAME = "manifest.json"
TEMPORARY_SUFFIX = ".briefgen-tmp"


@dataclass(frozen=True)
class BriefResult:
    """What became of one source in a build: its rendering, or the errors that stopped it."""

    source: Path
    rendered: RenderedBrief | None
    errors: tuple[Diagnostic, ...] = ()


def build(
    sources: Sequence[Path],
    project: Project,
    out_dir: Path,
    formats: Collection[Format],
    on_result: Callable[[BriefResult], None],
) -> Path:
    """Render and publish every source into out_dir; one failing brief never stops the others.

    Calls on_result once per source as it finishes, and returns the manifest's path.
    """
    entries = []
    with exclusive(out_dir):
        for source in sources:
            try:
                rendered = render_brief(source, project, formats)
                entries.append(publish(rendered, out_dir, project.root))
            except BriefgenError as exc:
                on_result(BriefResult(source, None, exc.diagnostics))
                continue
            on_result(BriefResult(source, rendered))
        return write_manifest(out_dir, entries, project.root)


@contextlib.contextmanager
def exclusive(out_dir: Path) -> Iterator[None]:
    """Hold the output folder for one build at a time, after checking it can be written.

    A second build into the same folder is refused, never interleaved. Temporary files left by a build
    that was killed are removed once the folder is held.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = os.open(out_dir, os.O_RDONLY)
    except OSError as exc:
        raise BriefgenError([Diagnostic(str(out_dir), f"cannot use output folder: {exc.strerror}")]) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BriefgenError(
                [Diagnostic(str(out_dir), "another briefgen build is writing this folder; run again when it ends")]
            ) from None
        for stale in out_dir.glob(f".*{TEMPORARY_SUFFIX}"):
            stale.unlink(missing_ok=True)
        _check_writable(out_dir)
        yield
    finally:
        os.close(handle)


def _check_writable(folder: Path) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise BriefgenError([Diagnostic(str(folder), f"cannot write output folder: {exc.strerror}")]) from None


def write_atomically(path: Path, data: bytes) -> None:
    """Write bytes to path through a temporary file in the same folder, then rename it into place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
    except OSError as exc:
        raise BriefgenError([Diagnostic(str(path.parent), f"cannot write output folder: {exc.strerror}")]) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise BriefgenError([Diagnostic(str(path), f"cannot write output: {exc.strerror}")]) from None


def publish(rendered: RenderedBrief, out_dir: Path, project_root: Path) -> dict[str, Any]:
    """Write one brief's outputs into out_dir; return its manifest entry."""
    outputs = {}
    for output_format, data in sorted(rendered.outputs.items()):
        target = out_dir / f"{rendered.brief_id}.{output_format}"
        write_atomically(target, data)
        outputs[str(output_format)] = {
            "path": target.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            **({"pages": rendered.pages} if output_format == "pdf" else {}),
        }
    return {
        "id": rendered.brief_id,
        "source": _relative(rendered.source, project_root),
        "outputs": outputs,
        "warnings": [str(warning) for warning in rendered.warnings],
    }


def write_manifest(out_dir: Path, entries: Iterable[dict[str, Any]], project_root: Path) -> Path:
    """Merge this build's entries into build/manifest.json, dropping briefs whose source is gone."""
    path = out_dir / MANIFEST_NAME
    merged = {entry["id"]: entry for entry in _previous_entries(path) if (project_root / entry["source"]).is_file()}
    merged.update((entry["id"], entry) for entry in entries)
    document = {"briefs": [merged[brief_id] for brief_id in sorted(merged)]}
    write_atomically(path, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def _previous_entries(path: Path) -> list[dict[str, Any]]:
    try:
        return list(json.loads(path.read_text(encoding="utf-8"))["briefs"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())
