"""Tracing a personalised copy: from a PDF (or the copy id on its pages) back to the recipient it was made for.

A copy carries its id twice: on every page, beside the recipient's name, and in the PDF's metadata
(COPY_ID_KEY), where it survives a stamp cropped off the page. The distribution's manifest maps the id
to the recipient and holds the copy's sha256, which tells whether the file was changed after it was sent.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefgen.errors import BriefgenError, Diagnostic, display_path
from briefgen.formats import COPY_ID_KEY


@dataclass(frozen=True)
class Traced:
    """A copy id, the manifest's record of that copy, and whether the file at hand is that copy unchanged."""

    copy_id: str
    record: dict[str, Any]
    unchanged: bool | None = None  # None when only an id was given

    def __str__(self) -> str:
        recipient = self.record.get("recipient", {})
        edition = self.record.get("edition")
        brief = f"{self.record.get('brief')}" + (f" ({edition} edition)" if edition else "")
        prepared = f"{recipient.get('name')}, {recipient.get('organisation')} <{recipient.get('email')}>"
        text = f"copy {self.copy_id} of {brief}, prepared for {prepared}"
        if self.unchanged is None:
            return text
        return text + (
            "; the file is the copy as sent" if self.unchanged else "; the file was changed after it was sent"
        )


def copy_id_of(pdf: Path) -> str:
    """The copy id in a PDF's metadata; BriefgenError when the file is no PDF or carries none."""
    import pikepdf

    shown = display_path(pdf)
    try:
        with pikepdf.open(pdf) as document:
            value = document.docinfo.get(COPY_ID_KEY)
    except FileNotFoundError:
        raise BriefgenError([Diagnostic(shown, "no such file")]) from None
    except (OSError, pikepdf.PdfError):
        raise BriefgenError([Diagnostic(shown, "not a PDF that can be read")]) from None
    if value is None:
        message = "no briefgen copy id in this PDF's metadata; give the id printed on its pages with --id"
        raise BriefgenError([Diagnostic(shown, message)])
    return str(value)


def trace_file(pdf: Path, manifest: Path) -> Traced:
    """Who a copy was made for, and whether the file is byte for byte the copy that was sent."""
    copy_id = copy_id_of(pdf)
    traced = trace_id(copy_id, manifest, display_path(pdf))
    unchanged = hashlib.sha256(pdf.read_bytes()).hexdigest() == traced.record.get("sha256")
    return Traced(copy_id, traced.record, unchanged)


def trace_id(copy_id: str, manifest: Path, shown: str | None = None) -> Traced:
    """Who the copy with this id was made for, from a distribution's manifest."""
    wanted = copy_id.strip().upper()
    for record in _copies(manifest):
        if str(record.get("copy_id", "")).upper() == wanted:
            return Traced(record["copy_id"], record)
    message = f"copy id {wanted} is not in {display_path(manifest)}; was it made by another distribution?"
    raise BriefgenError([Diagnostic(shown or wanted, message)])


def is_distribution_manifest(document: Any) -> bool:
    """Whether a manifest.json's content is a distribution's (its copies listed), not a build's (its briefs)."""
    return isinstance(document, dict) and isinstance(document.get("copies"), list) and "briefs" not in document


def _copies(manifest: Path) -> list[dict[str, Any]]:
    shown = display_path(manifest)
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BriefgenError([Diagnostic(shown, "no such manifest; give the distribution's with --manifest")]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BriefgenError([Diagnostic(shown, f"cannot read the manifest: {exc}")]) from None
    copies = document.get("copies") if isinstance(document, dict) else None
    if not isinstance(copies, list) or not all(isinstance(record, dict) for record in copies):
        raise BriefgenError([Diagnostic(shown, "not a distribution manifest (it lists no copies)")])
    return copies
