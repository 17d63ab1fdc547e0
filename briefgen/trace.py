"""Tracing a personalised copy: from a PDF (or the copy id on its pages) back to the recipient it was made for.

A copy carries its id twice: on every page, beside the recipient's name, and in the PDF's metadata
(COPY_ID_KEY), where it survives a stamp cropped off the page. The distribution's manifest maps the id
to the recipient and holds the copy's sha256, which tells whether the file was changed after it was sent.
Copies issued into the folder before and no longer current stay in the manifest ("earlier"), marked
superseded or withdrawn: a copy already sent is traced after its file is gone, and one id stamped again
for a renamed recipient tells the two stamps apart by their sha256.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefgen.errors import BriefgenError, Diagnostic, display_path
from briefgen.formats import COPY_ID_KEY

DEFAULT_MANIFEST = Path("dist") / "manifest.json"
# where trace finds the password of a protected copy when --password is not given
PASSWORD_VARIABLE = "BRIEFGEN_PDF_PASSWORD"


@dataclass(frozen=True)
class Traced:
    """A copy id, the manifest's record of that copy, whether the file at hand is that copy unchanged, and
    for a copy that is no longer current, what became of it."""

    copy_id: str
    record: dict[str, Any]
    unchanged: bool | None = None  # None when only an id was given
    since: str = ""  # for an earlier copy: "since superseded by ...", "since withdrawn ..."
    also_stamped: tuple[str, ...] = ()  # the stamps of earlier copies with the same id, for other names

    def __str__(self) -> str:
        edition = self.record.get("edition")
        brief = f"{self.record.get('brief')}" + (f" ({edition} edition)" if edition else "")
        text = f"copy {self.copy_id} of {brief}, prepared for {_prepared_for(self.record)}"
        if self.unchanged and self.since:
            text += f"; the file is an earlier copy as sent, {self.since}"
        elif self.unchanged:
            text += "; the file is the copy as sent"
        else:
            text += f"; an earlier copy, {self.since}" if self.since else ""
            text += "; the file was changed after it was sent" if self.unchanged is False else ""
        return text + "".join(
            f"; the same id was on an earlier copy stamped for {stamp}" for stamp in self.also_stamped
        )


@dataclass(frozen=True)
class _Manifest:
    """A distribution's manifest: its current copies, and the copies issued earlier (oldest first)."""

    path: Path
    current: list[dict[str, Any]]
    earlier: list[dict[str, Any]]

    def records(self, copy_id: str, shown: str | None = None) -> list[dict[str, Any]]:
        """The records with this copy id: the current copy's first, then earlier ones, newest first;
        BriefgenError (reported at shown, or at the id) when there is none."""
        wanted = copy_id.strip().upper()
        found = [record for record in [*self.current, *reversed(self.earlier)] if _id(record) == wanted]
        if not found:
            message = f"copy id {wanted} is not in {display_path(self.path)}; was it made by another distribution?"
            raise BriefgenError([Diagnostic(shown or wanted, message)])
        return found

    def traced(self, record: dict[str, Any], others: list[dict[str, Any]], unchanged: bool | None) -> Traced:
        """The answer for record, among the others with its copy id."""
        stamp = _stamp(record)
        also = [_stamp(other) for other in others if other is not record and not self._is_current(other)]
        return Traced(
            str(record["copy_id"]),
            record,
            unchanged,
            "" if self._is_current(record) else self._since(record),
            tuple(dict.fromkeys(other for other in also if other != stamp)),
        )

    def _is_current(self, record: dict[str, Any]) -> bool:
        return any(record is row for row in self.current)

    def _since(self, record: dict[str, Any]) -> str:
        """What became of an earlier copy: the copy that superseded it, or its withdrawal."""
        successor_id = str(record.get("superseded_by") or "").upper()
        if record.get("status") == "superseded" and successor_id:
            successor = next((row for row in self.current if _id(row) == successor_id), None)
            restamped = (
                f", stamped for {_stamp(successor)}" if successor and _stamp(successor) != _stamp(record) else ""
            )
            if successor_id == _id(record):
                return f"since superseded by a copy with the same id{restamped}"
            return f"since superseded by copy {successor_id}" + (f" ({restamped[2:]})" if restamped else "")
        if record.get("status") == "withdrawn":
            return f"since withdrawn: the distribution no longer sends {record.get('brief')} to this recipient"
        return "no longer a current copy"


def _id(record: dict[str, Any]) -> str:
    return str(record.get("copy_id", "")).upper()


def _recipient(record: dict[str, Any]) -> dict[str, Any]:
    recipient = record.get("recipient")
    return recipient if isinstance(recipient, dict) else {}


def _stamp(record: dict[str, Any]) -> str:
    """The name and organisation a copy was stamped with."""
    recipient = _recipient(record)
    return f"{recipient.get('name')}, {recipient.get('organisation')}"


def _prepared_for(record: dict[str, Any]) -> str:
    return f"{_stamp(record)} <{_recipient(record).get('email')}>"


def copy_id_of(pdf: Path, password: str | None = None) -> str:
    """The copy id in a PDF's metadata; BriefgenError when the file cannot be read as a PDF (a folder, an empty
    file, one protected by a password not given) or carries none. A copy that opens without a password (one with
    an empty user password) is opened so, whatever password is given."""
    import pikepdf

    shown = display_path(pdf)
    try:
        with _open_pdf(pdf, password) as document:
            value = document.docinfo.get(COPY_ID_KEY)
    except pikepdf.PasswordError:
        raise BriefgenError([Diagnostic(shown, _password_problem(password))]) from None
    except FileNotFoundError:
        raise BriefgenError([Diagnostic(shown, "no such file")]) from None
    except IsADirectoryError:
        raise BriefgenError([Diagnostic(shown, "a folder, not a PDF")]) from None
    except OSError as exc:
        raise BriefgenError([Diagnostic(shown, f"cannot read the file: {exc.strerror or exc}")]) from None
    except pikepdf.PdfError:
        problem = "an empty file, not a PDF" if pdf.stat().st_size == 0 else "not a PDF that can be read"
        raise BriefgenError([Diagnostic(shown, problem)]) from None
    if value is None:
        message = "no briefgen copy id in this PDF's metadata; give the id printed on its pages with --id"
        raise BriefgenError([Diagnostic(shown, message)])
    return str(value)


def _open_pdf(pdf: Path, password: str | None) -> Any:
    """The PDF opened as pikepdf opens it without a password, or else with the one given."""
    import pikepdf

    try:
        return pikepdf.open(pdf)
    except pikepdf.PasswordError:
        if password is None:
            raise
        return pikepdf.open(pdf, password=password)


def _password_problem(password: str | None) -> str:
    if password is None:
        return (
            f"the PDF is protected by a password; give it with --password (or '--password -' to type it, or in"
            f" {PASSWORD_VARIABLE}), or give the copy id printed on its pages with --id"
        )
    return (
        "the password given does not open this PDF; give the right one, or the copy id printed on its pages with --id"
    )


def manifest_for(pdf: Path) -> Path:
    """The manifest to trace a copy in when none is given: dist/manifest.json, or else a distribution's
    manifest.json in the copy's folder or the one above it (a distribution writes FOLDER/BRIEF/RECIPIENT.pdf);
    BriefgenError when there is none of these."""
    if DEFAULT_MANIFEST.exists():
        return DEFAULT_MANIFEST
    brief_folder = pdf.absolute().parent
    for folder in (brief_folder, brief_folder.parent):
        if holds_distribution_manifest(candidate := folder / DEFAULT_MANIFEST.name):
            return candidate
    message = (
        f"no {DEFAULT_MANIFEST} here, and no distribution's manifest.json in this copy's folder or the one above;"
        " give the distribution's with --manifest"
    )
    raise BriefgenError([Diagnostic(display_path(pdf), message)])


def holds_distribution_manifest(path: Path) -> bool:
    """Whether a file is a distribution's manifest (False when it is missing or unreadable)."""
    try:
        return is_distribution_manifest(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return False


def trace_file(pdf: Path, manifest: Path, password: str | None = None) -> Traced:
    """Who a copy was made for, and whether the file is byte for byte a copy that was sent: the current one,
    or an earlier one since superseded or withdrawn. password opens a copy protected by one."""
    copy_id = copy_id_of(pdf, password)
    distribution = _read(manifest)
    records = distribution.records(copy_id, display_path(pdf))
    sha256 = hashlib.sha256(pdf.read_bytes()).hexdigest()
    sent = next((record for record in records if record.get("sha256") == sha256), None)
    return distribution.traced(sent or records[0], records, sent is not None)


def trace_id(copy_id: str, manifest: Path) -> Traced:
    """Who the copy with this id was made for, from a distribution's manifest: the current copy with the id,
    or else the latest earlier one."""
    distribution = _read(manifest)
    records = distribution.records(copy_id)
    return distribution.traced(records[0], records, None)


def is_distribution_manifest(document: Any) -> bool:
    """Whether a manifest.json's content is a distribution's (its copies listed), not a build's (its briefs)."""
    return isinstance(document, dict) and isinstance(document.get("copies"), list) and "briefs" not in document


def _read(manifest: Path) -> _Manifest:
    shown = display_path(manifest)
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BriefgenError([Diagnostic(shown, "no such manifest; give the distribution's with --manifest")]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BriefgenError([Diagnostic(shown, f"cannot read the manifest: {exc}")]) from None
    lists = [document.get(key, []) if isinstance(document, dict) else None for key in ("copies", "earlier")]
    if not is_distribution_manifest(document) or not all(
        isinstance(found, list) and all(isinstance(record, dict) for record in found) for found in lists
    ):
        raise BriefgenError([Diagnostic(shown, "not a distribution manifest (it lists no copies)")])
    return _Manifest(manifest, *lists)
