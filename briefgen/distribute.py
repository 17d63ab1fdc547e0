"""Personalised copies: each brief rendered once per edition, then stamped for every recipient.

Every page of a recipient's copy carries "Prepared for NAME, ORGANISATION" and a
copy id derived from the brief, the edition and the recipient, so a leaked copy
can be traced and the same inputs give the same bytes. The stamps of all copies
are laid out by WeasyPrint in one document (one page per copy, in a bundled
font) and laid over the brief's pages with pikepdf, which costs milliseconds
where rendering a brief again costs most of a second.
"""

import csv
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, RootModel, StringConstraints, ValidationError

from briefgen.errors import BriefgenError, Diagnostic, display_path
from briefgen.load import load_source
from briefgen.models import Identifier, Model, Text
from briefgen.pipeline import Format, Project, print_stamps
from briefgen.publish import exclusive, write_atomically
from briefgen.validate import validate_model

MANIFEST_NAME = "manifest.json"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class RecipientRow(Model):
    name: Text
    organisation: Text
    email: Email
    edition: Identifier | None = Field(None, description="The edition this recipient gets (default: public).")


class RecipientList(RootModel[list[RecipientRow]]):
    """A YAML recipients file: a list of recipients."""


@dataclass(frozen=True)
class Recipient:
    name: str
    organisation: str
    email: str
    edition: str | None
    slug: str


@dataclass(frozen=True)
class Copy:
    """One recipient's copy of one brief."""

    recipient: Recipient
    brief_id: str
    copy_id: str

    @property
    def stamp(self) -> str:
        return f"{self.recipient.name}, {self.recipient.organisation}"


def load_recipients(path: Path, project: Project) -> list[Recipient]:
    """Read a CSV (name, organisation, email, edition) or YAML recipients file; every bad row is an error."""
    rows = _yaml_rows(path) if path.suffix.lower() in (".yaml", ".yml") else _csv_rows(path)
    default = "public" if "public" in project.config.editions else None
    problems, seen, slugs, recipients = [], {}, set(), []
    for where, row in rows:
        edition = row.edition or default
        if edition is not None and edition not in project.config.editions:
            known = ", ".join(project.config.editions)
            problems.append(Diagnostic(where.path, f"unknown edition '{edition}'; editions: {known}", where.line))
            continue
        email = row.email.lower()
        if email in seen:
            message = f"{row.email} is listed twice (first on row {seen[email]})"
            problems.append(Diagnostic(where.path, message, where.line))
            continue
        seen[email] = where.line
        slug = _unique_slug(row.name, email, slugs)
        recipients.append(Recipient(row.name, row.organisation, row.email, edition, slug))
    if problems:
        raise BriefgenError(problems)
    if not recipients:
        raise BriefgenError([Diagnostic(display_path(path), "no recipients")])
    return recipients


@dataclass(frozen=True)
class _Where:
    path: str
    line: int


def _csv_rows(path: Path) -> Iterator[tuple[_Where, RecipientRow]]:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BriefgenError([Diagnostic(shown, f"cannot read recipients: {exc}")]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = {"name", "organisation", "email"} - set(reader.fieldnames or ())
    if missing:
        message = f"the header row lacks: {', '.join(sorted(missing))} (columns: name, organisation, email, edition)"
        raise BriefgenError([Diagnostic(shown, message, 1)])
    problems, rows = [], []
    for row in reader:
        line = reader.line_num
        values = {key: (value or "").strip() or None for key, value in row.items() if key is not None}
        if None in row:
            problems.append(Diagnostic(shown, "more fields than the header names", line))
            continue
        try:
            rows.append((_Where(shown, line), RecipientRow.model_validate(values)))
        except ValidationError as exc:
            problems.extend(Diagnostic(shown, _row_message(error), line) for error in exc.errors())
    if problems:
        raise BriefgenError(problems)
    return iter(rows)


def _row_message(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "row"
    if error["type"] == "missing":
        return f"{field}: missing"
    if error["type"] == "string_pattern_mismatch" and field == "email":
        return "email: not an email address"
    return f"{field}: {str(error['msg'])[0].lower()}{str(error['msg'])[1:]}"


def _yaml_rows(path: Path) -> Iterator[tuple[_Where, RecipientRow]]:
    document = load_source(path)
    recipients = validate_model(document, RecipientList).root
    shown = display_path(path)
    return iter((_Where(shown, document.span((index,)).line), row) for index, row in enumerate(recipients))


def _unique_slug(name: str, email: str, taken: set[str]) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or re.sub(r"[^a-z0-9]+", "-", email.lower())
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    taken.add(slug)
    return slug


def copy_id(brief_id: str, edition: str | None, recipient: Recipient, base_sha256: str) -> str:
    """A short id unique to one recipient's copy of one brief in one edition."""
    key = f"{brief_id}\0{edition or ''}\0{recipient.email.lower()}\0{base_sha256}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12].upper()


def distribute(
    sources: Sequence[Path], recipients: Sequence[Recipient], project: Project, out_dir: Path, jobs: int = 1
) -> Path:
    """Render, stamp and bundle every recipient's copies into out_dir; return the manifest's path."""
    import pikepdf

    from briefgen.batch import RenderTask, render_all

    editions = sorted({recipient.edition for recipient in recipients}, key=lambda edition: edition or "")
    tasks = [RenderTask(source, project, (Format.PDF,), edition) for source in sources for edition in editions]
    bases: dict[tuple[str, str | None], bytes] = {}
    problems: list[Diagnostic] = []
    for result in render_all(tasks, jobs):
        if result.rendered is None:
            problems.extend(result.errors)
        else:
            bases[result.rendered.brief_id, result.task.edition] = result.rendered.outputs[Format.PDF]
    if problems:
        raise BriefgenError(problems)
    brief_ids = sorted({brief_id for brief_id, _ in bases})
    shas = {key: hashlib.sha256(data).hexdigest() for key, data in bases.items()}
    copies = [
        Copy(recipient, brief_id, copy_id(brief_id, recipient.edition, recipient, shas[brief_id, recipient.edition]))
        for recipient in recipients
        for brief_id in brief_ids
    ]
    stamps = pikepdf.open(io.BytesIO(print_stamps([(copy.stamp, copy.copy_id) for copy in copies], project)))
    rows = []
    with exclusive(out_dir):
        for copy, stamp_page in zip(copies, stamps.pages, strict=True):
            data = _stamped(bases[copy.brief_id, copy.recipient.edition], stamp_page)
            target = out_dir / copy.brief_id / f"{copy.recipient.slug}.pdf"
            write_atomically(target, data)
            rows.append(
                {
                    "copy_id": copy.copy_id,
                    "brief": copy.brief_id,
                    "edition": copy.recipient.edition,
                    "recipient": {
                        "name": copy.recipient.name,
                        "organisation": copy.recipient.organisation,
                        "email": copy.recipient.email,
                    },
                    "path": target.relative_to(out_dir).as_posix(),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            )
        for recipient in recipients:
            write_atomically(out_dir / "bundles" / f"{recipient.slug}.zip", _bundle(out_dir, recipient, brief_ids))
        manifest = out_dir / MANIFEST_NAME
        write_atomically(manifest, (json.dumps({"copies": rows}, indent=2, ensure_ascii=False) + "\n").encode())
    return manifest


def _stamped(base: bytes, stamp_page: Any) -> bytes:
    import pikepdf

    with pikepdf.open(io.BytesIO(base)) as pdf:
        form = pdf.copy_foreign(stamp_page.as_form_xobject())
        for page in pdf.pages:
            page.add_overlay(form, pikepdf.Rectangle(page.mediabox))
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
        return out.getvalue()


def _bundle(out_dir: Path, recipient: Recipient, brief_ids: Sequence[str]) -> bytes:
    """One zip of all a recipient's copies, with fixed timestamps so it is reproducible."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for brief_id in brief_ids:
            info = zipfile.ZipInfo(f"{brief_id}.pdf", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (out_dir / brief_id / f"{recipient.slug}.pdf").read_bytes())
    return buffer.getvalue()
