"""The recipients of personalised copies: read from a CSV or YAML file, every bad row reported at its place.

A CSV may come from a spreadsheet (semicolons or tabs, a byte-order mark, headings such as 'Organization'
or 'E-mail'); a bad row is reported as FILE:ROW, a bad entry of a YAML list as FILE:LINE:COL, all at once.
Each recipient gets a file name for their copies, from their name in Latin letters, which never depends on
the order of the list.
"""

import csv
import dataclasses
import functools
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from anyascii import anyascii
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, ValidationError, ValidationInfo

from briefgen.errors import BriefgenError, Diagnostic, Severity, display_path
from briefgen.load import SourceDocument, load_source
from briefgen.models import EMAIL_PATTERN, SINGLE_LINE_PATTERN, Identifier, Model, Text, closest, suggestion
from briefgen.pipeline import Project, stamp_letters
from briefgen.stamp_font import StampLetters
from briefgen.validate import error_message, located

COLUMNS = ("name", "organisation", "email", "edition")
REQUIRED_COLUMNS = ("name", "organisation", "email")
COLUMN_ALIASES = {"organization": "organisation", "e-mail": "email"}
ROWS_LISTED = 10  # a warning many rows share names this many of them
# The longest a copy's file name takes of a recipient's name, and of the organisation added when names clash
NAME_IN_NAME, ORGANISATION_IN_NAME = 60, 40


def _an_edition(value: str | None, info: ValidationInfo) -> str | None:
    """Refuse an edition the project does not define (its editions are the validation context's)."""
    editions = (info.context or {}).get("editions")
    if value is not None and editions is not None and value not in editions:
        hint = suggestion(value, editions) or f"; the project's editions are: {', '.join(editions) or 'none'}"
        raise ValueError(f"unknown edition '{value}'{hint}")
    return value


def _edition_in_lower_case(value: Any, info: ValidationInfo) -> Any:
    """Refuse, with a hint, an edition the project defines but written in capitals ('Public')."""
    editions = (info.context or {}).get("editions") or ()
    if isinstance(value, str) and value != value.lower() and value.strip().lower() in editions:
        raise ValueError(f"'{value}': edition names are lower case; did you mean '{value.strip().lower()}'?")
    return value


class RecipientRow(Model):
    name: Text
    organisation: Text
    email: Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254)]
    edition: Annotated[Identifier | None, BeforeValidator(_edition_in_lower_case), AfterValidator(_an_edition)] = Field(
        None, description="The edition this recipient gets (default: public)."
    )


@dataclass(frozen=True)
class Recipient:
    name: str
    organisation: str
    email: str
    edition: str | None
    slug: str


@dataclass(frozen=True)
class _Row:
    """A recipient row as read, with where to report a problem with each of its fields.

    values is None when the row is invalid; its email as written still finds an address listed twice.
    """

    values: RecipientRow | None
    email: str | None
    where: Callable[[str], Diagnostic]


def load_recipients(
    path: Path, project: Project, on_warning: Callable[[Diagnostic], None] = lambda warning: None
) -> list[Recipient]:
    """Read a CSV (name, organisation, email, edition) or YAML recipients file.

    Every bad row is reported at once: as FILE:ROW for a CSV, FILE:LINE:COL for YAML. on_warning gets a
    warning for each name or organisation with letters no font can draw on the stamp.
    """
    reader = _yaml_rows if path.suffix.lower() in (".yaml", ".yml") else _csv_rows
    rows, problems = reader(path, {"editions": list(project.config.editions)})
    default = "public" if "public" in project.config.editions else None
    first_row: dict[str, Diagnostic] = {}
    accepted = []
    for row in rows:
        if row.email is not None and (earlier := first_row.get(row.email.lower())):
            problems.append(_with(row.where("email"), f"{row.email} is listed twice (first on line {earlier.line})"))
            continue
        if row.email is not None:
            first_row[row.email.lower()] = row.where("email")
        if row.values is not None:
            values = row.values
            accepted.append((values.name, values.organisation, values.email, values.edition or default))
    if problems:
        raise BriefgenError(sorted(problems, key=lambda d: (d.line or 0, d.column or 0)))
    if not accepted:
        raise BriefgenError([Diagnostic(display_path(path), "no recipients")])
    names = _file_names([(name, organisation, email) for name, organisation, email, _ in accepted])
    recipients = [Recipient(*person, file) for person, file in zip(accepted, names, strict=True)]
    for warning in _boxes_on_the_stamp(rows, stamp_letters(project)):
        on_warning(warning)
    return recipients


def _boxes_on_the_stamp(rows: Iterable[_Row], letters: StampLetters) -> Iterator[Diagnostic]:
    """A warning for each distinct name or organisation with letters that no font has (the stamp prints
    boxes), at its first row, with the other rows that have it."""
    places: dict[tuple[str, str], list[Diagnostic]] = {}
    for row in rows:
        for field in ("name", "organisation"):
            if row.values is not None:
                places.setdefault((field, getattr(row.values, field)), []).append(row.where(field))
    for (field, text), found in places.items():
        if not (missing := letters.missing(text)):
            continue
        message = (
            f"{field} '{text}': the stamp font has no letters for '{missing}', and no installed font does"
            " either; they will print as empty boxes (installing a font that has them draws them)"
        )
        if others := [str(place.line) for place in found[1:]]:
            more = f", and {len(others) - ROWS_LISTED} more" if len(others) > ROWS_LISTED else ""
            unit = ("row" if found[0].column is None else "line") + ("s" if len(others) > 1 else "")
            message += f" (also {unit} {', '.join(others[:ROWS_LISTED])}{more})"
        yield dataclasses.replace(found[0], message=message, severity=Severity.WARNING)


def _with(diagnostic: Diagnostic, message: str) -> Diagnostic:
    return dataclasses.replace(diagnostic, message=message)


def _csv_rows(path: Path, context: dict[str, Any]) -> tuple[list[_Row], list[Diagnostic]]:
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BriefgenError([Diagnostic(shown, f"cannot read recipients: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02X}); export the spreadsheet as 'CSV UTF-8'"
        raise BriefgenError([Diagnostic(shown, message, line)]) from None
    if not text.strip():
        raise BriefgenError(
            [Diagnostic(shown, f"the file is empty; its first row names the columns: {', '.join(COLUMNS)}")]
        )
    dialect = _format(text)
    reader = csv.DictReader(io.StringIO(text, newline=""), **dialect)
    reader.fieldnames = header = [_column(name) for name in reader.fieldnames or ()]
    columns = ", ".join(COLUMNS)
    header_problems, misspelt = [], set()
    for name in header:
        if name and name not in COLUMNS:  # a spreadsheet's trailing empty column is no column
            meant = closest(name, COLUMNS)
            misspelt.add(meant)
            hint = f"; did you mean '{meant}'?" if meant else f"; the columns are: {columns}"
            header_problems.append(f"unknown column '{name}'{hint}")
    if missing := [name for name in REQUIRED_COLUMNS if name not in header and name not in misspelt]:
        header_problems.append(f"the header row lacks: {', '.join(missing)} (columns: {columns})")
    header_problems += _repeated_columns(header)
    if header_problems:
        raise BriefgenError([Diagnostic(shown, message, 1) for message in header_problems])
    rows, problems = [], []
    numbered = list(_numbered(reader))
    if numbered and _unclosed_quote(text, numbered[-1][0], dialect):
        line, _ = numbered.pop()
        message = 'a quote (") opened in this row is never closed, so the rest of the file reads as one field'
        problems.append(Diagnostic(shown, message, line))
    for line, row in numbered:
        if None in row:
            problems.append(Diagnostic(shown, "more fields than the header names", line))
            continue
        values = {key: value.strip() for key, value in row.items() if key and value and value.strip()}
        try:
            parsed = RecipientRow.model_validate(values, context=context)
        except ValidationError as exc:
            problems.extend(Diagnostic(shown, _row_message(error), line) for error in exc.errors())
            parsed = None
        rows.append(_Row(parsed, values.get("email"), lambda _, line=line: Diagnostic(shown, "", line)))
    return rows, problems


def _repeated_columns(header: Sequence[str]) -> list[str]:
    """A problem for each column the header names more than once (a reader would keep only the last)."""
    places: dict[str, list[int]] = {}
    for number, name in enumerate(header, start=1):
        if name:  # a spreadsheet's trailing empty columns
            places.setdefault(name, []).append(number)
    problems = []
    for name, numbers in places.items():
        if len(numbers) > 1:
            times = "twice" if len(numbers) == 2 else f"{len(numbers)} times"
            listed = ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
            problems.append(f"column '{name}' appears {times} (columns {listed})")
    return problems


def _unclosed_quote(text: str, start: int, dialect: dict[str, Any]) -> bool:
    """Whether the row starting on line start, the last one read, opens a quoted field it never closes:
    read leniently, as spreadsheets are, that field runs to the end of the file."""
    lines = io.StringIO(text, newline="").readlines()
    try:
        list(csv.reader(io.StringIO("".join(lines[start - 1 :]), newline=""), strict=True, **dialect))
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _numbered(reader: csv.DictReader) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row with the line it starts on (a quoted field may run over several lines)."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        yield start, row


def _format(text: str) -> dict[str, Any]:
    """Commas, or the semicolons or tabs of a spreadsheet's export, as the header line shows; quoted fields
    as RFC 4180 and spreadsheets have them ("" inside quotes is one quote), which one line cannot show."""
    try:
        sniffed = csv.Sniffer().sniff(text.partition("\n")[0], delimiters=",;\t")
    except csv.Error:  # one column, or no header: let the header check say what is missing
        return {"dialect": csv.excel}
    return {"dialect": csv.excel, "delimiter": sniffed.delimiter, "skipinitialspace": sniffed.skipinitialspace}


def _column(heading: str | None) -> str:
    """A header cell as a column name: spreadsheets write 'Email ' or 'Organization' as readily."""
    name = (heading or "").strip().lower()
    return COLUMN_ALIASES.get(name, name)


def _row_message(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "row"
    if error["type"] == "missing":
        return f"{field}: missing"
    if error["type"] == "extra_forbidden":
        return f"{field}: not a column briefgen knows (columns: {', '.join(COLUMNS)})"
    if error["type"] == "string_pattern_mismatch" and error["ctx"]["pattern"] == SINGLE_LINE_PATTERN:
        return f"{field}: must be one line"
    return f"{field}: {error_message(error)}"


def _yaml_rows(path: Path, context: dict[str, Any]) -> tuple[list[_Row], list[Diagnostic]]:
    document = load_source(path)
    if not isinstance(document.data, list):
        span = document.span(())
        raise BriefgenError([Diagnostic(display_path(path), "expected a list of recipients", span.line, span.column)])
    rows, problems = [], []
    for index, item in enumerate(document.data):
        try:
            parsed = RecipientRow.model_validate(item, context=context)
        except ValidationError as exc:
            problems.extend(located(exc, document, RecipientRow, (index,)))
            parsed = None
        email = item.get("email") if isinstance(item, dict) else None
        where = functools.partial(_yaml_place, document, index)
        rows.append(_Row(parsed, email if isinstance(email, str) else None, where))
    return rows, problems


def _yaml_place(document: SourceDocument, index: int, field: str) -> Diagnostic:
    span = document.span((index, field))
    return Diagnostic(display_path(document.path), "", span.line, span.column)


def _file_names(people: Sequence[tuple[str, str, str]]) -> list[str]:
    """The file name (without suffix) of each recipient, given as (name, organisation, email).

    A name is the recipient's name in Latin letters. Recipients who would share one all get their
    organisation added, and those who would still share one a hash of name, organisation and email. So a
    name never depends on the order of the list, and a name two recipients would share goes to neither.
    """
    names = [_slug(name) or _slug(email) for name, _, email in people]
    for widen in (_with_organisation, _with_hash):
        counts = Counter(names)
        names = [widen(file, *person) if counts[file] > 1 else file for file, person in zip(names, people, strict=True)]
    return names


def _with_organisation(file: str, name: str, organisation: str, email: str) -> str:
    return "-".join(part for part in (file, _slug(organisation, ORGANISATION_IN_NAME)) if part)


def _with_hash(file: str, name: str, organisation: str, email: str) -> str:
    key = f"{name}\0{organisation}\0{email.lower()}"
    return f"{file}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:8]}"


def _slug(text: str, longest: int = NAME_IN_NAME) -> str:
    """Text as lower-case Latin letters, digits and hyphens: Łukasz Øster -> lukasz-oster, Анна -> anna;
    cut at a word's end to at most `longest` characters, so that file names stay well within what file
    systems take."""
    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")
    if len(slug) > longest:
        head = slug[: longest + 1]
        slug = head.rsplit("-", 1)[0] if "-" in head else head[:longest]
    return slug
