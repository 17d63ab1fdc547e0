"""Stage 2, validate: turn loaded data into an Assessment, or report every problem at its line.

Pydantic checks each value's shape and, with the declared ids as context, that
every reference resolves; the cross-checks below then look over the whole valid
document (unique ids, one position per member, dates). Every problem becomes a
Diagnostic pointing at the offending value in the YAML.
"""

import datetime as dt
import re
import types
import typing
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from anyascii import anyascii
from pydantic import BaseModel, ValidationError

from briefgen.editions import restrictables
from briefgen.errors import BriefgenError, Diagnostic, Severity, display_path
from briefgen.load import DataPath, SourceDocument, Unreadable
from briefgen.load import brief_id as brief_id_of
from briefgen.models import (
    BRIEF_ID_PATTERN,
    COLOUR_PATTERN,
    EMAIL_PATTERN,
    GRADE_PATTERN,
    IDENTIFIER_PATTERN,
    LANGUAGE_PATTERN,
    SINGLE_LINE_PATTERN,
    Assessment,
    Restrictable,
    suggestion,
)

Model = TypeVar("Model", bound=BaseModel)

PATTERN_MESSAGES = {
    SINGLE_LINE_PATTERN: "must be a single line; use a prose field for longer text",
    IDENTIFIER_PATTERN: "expected an id made of lower-case letters, digits and hyphens, e.g. 'inf-treaty'",
    LANGUAGE_PATTERN: "expected a language tag such as 'en', 'ru' or 'en-GB'",
    GRADE_PATTERN: "expected an Admiralty grade: a letter A-F then a digit 1-6, e.g. B2",
    EMAIL_PATTERN: "not an email address",
    COLOUR_PATTERN: "expected a colour written as #rrggbb, e.g. #1b3a5c",
}
DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Errors where quoting a value YAML typed implicitly (NO, 1.10, 12:30) would fix it.
TEXT_EXPECTED = {"string_type", "enum", "string_pattern_mismatch", "literal_error"}


@dataclass(frozen=True)
class Problem:
    """A cross-check finding, located by its path into the data."""

    at: DataPath
    message: str
    first_at: DataPath | None = None
    severity: Severity = Severity.ERROR


@dataclass(frozen=True)
class ValidatedAssessment:
    """A source that passed validation, with the warnings it raised."""

    document: SourceDocument
    assessment: Assessment
    warnings: tuple[Diagnostic, ...]

    @property
    def brief_id(self) -> str:
        return self.document.brief_id


ID_LISTS: dict[str, DataPath] = {
    "member": ("event", "members"),
    "key judgment": ("key_judgments",),
    "outcome": ("outcomes",),
    "issue": ("cohesion", "issues"),
    "scenario": ("outlook", "scenarios"),
    "source": ("sources",),
}


def validate(document: SourceDocument, known: Mapping[str, Collection[str]] | None = None) -> ValidatedAssessment:
    """Validate a loaded source; raise BriefgenError listing every error in it.

    known may list the project's themes and editions ({"theme": [...], "edition": [...]}); a theme or
    audience the brief names must then be one of them.
    """
    if (misnamed := _misnamed(document.path)) is not None:
        raise BriefgenError([misnamed])
    data = document.data
    structural = [locate(problem, document) for problem in check_structure(data)]
    context: dict[str, Any] = declared_ids(data)
    context.update((kind, sorted(names)) for kind, names in (known or {}).items())
    try:
        assessment = Assessment.model_validate(data, context=context)
    except ValidationError as exc:
        located = [_describe(error, document, Assessment) for error in exc.errors()]
        raise BriefgenError(_sorted([*located, *structural])) from None
    editions = (known or {}).get("edition")
    problems = structural + [locate(problem, document) for problem in cross_check(assessment, editions)]
    errors = [problem for problem in problems if problem.severity is Severity.ERROR]
    if errors:
        raise BriefgenError(_sorted(errors))
    return ValidatedAssessment(document, assessment, tuple(_sorted(problems)))


def _misnamed(path: Path) -> Diagnostic | None:
    """An error when a source's file name does not make a brief id, which names its outputs and their links."""
    brief_id = brief_id_of(path)
    if re.fullmatch(BRIEF_ID_PATTERN, brief_id):
        return None
    message = (
        f"the file name makes the brief id '{brief_id}', which names its outputs: use lower-case letters, digits, "
        f"hyphens and dots; rename it {suggested_id(brief_id)}{path.suffix}"
    )
    return Diagnostic(display_path(path), message)


def suggested_id(text: str) -> str:
    """A brief id made from a name that is not one, e.g. 'bad-id' from 'Bad_Id'."""
    return ".".join(filter(None, (_as_identifier(part) for part in text.split(".")))) or "brief"


def _as_identifier(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")


def validate_model(document: SourceDocument, model: type[Model], context: dict[str, Any] | None = None) -> Model:
    """Validate any loaded YAML file (a config, a theme) against a model, with located errors."""
    try:
        return model.model_validate(document.data, context=context)
    except ValidationError as exc:
        raise BriefgenError(located(exc, document, model)) from None


def located(
    exc: ValidationError, document: SourceDocument, model: type[BaseModel], at: DataPath = ()
) -> list[Diagnostic]:
    """The errors of validating the value at a path of a document against a model, each at its position."""
    errors = [{**error, "loc": _in_document((*at, *error["loc"]), document, error["type"])} for error in exc.errors()]
    return _sorted(_describe(error, document, model, len(at)) for error in errors)


def _in_document(loc: DataPath, document: SourceDocument, kind: str) -> DataPath:
    """A pydantic location without the names of the union members it passed through (as in
    ('verdict', 'table', 'success')), which are no keys of the document."""
    path: DataPath = ()
    for index, part in enumerate(loc):
        if (*path, part) not in document.spans:
            after = loc[index + 1 : index + 2]
            # a member's name: what follows it is in the document; or, last, it names no missing key
            if (*path, *after) in document.spans if after else kind != "missing":
                continue
        path = (*path, part)
    return path


def declared_ids(data: Any) -> dict[str, list[str]]:
    """The member, source and scenario ids a document declares, read leniently from raw data.

    Passed to the models as validation context, so references are checked in the same pass as the rest.
    A kind whose list is not a list of items with ids (`members: six`, an item without one) is left out:
    references to it go unchecked, for its own error to stand alone instead of one for every reference.
    """
    declared: dict[str, list[str]] = {}
    for kind in ("member", "source", "scenario"):
        items = _value_at(data, ID_LISTS[kind])
        if isinstance(items, list) and items and all(_has_id(item) for item in items):
            declared[kind] = [item["id"] for item in items]
    return declared


def _has_id(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("id"), str)


def check_structure(data: Any) -> Iterator[Problem]:
    """Checks that need only the raw data, so they run even when other values are invalid.

    Ids are unique within their list, and each member takes one position per contested issue.
    """
    for at in ID_LISTS.values():
        yield from _unique(_ids(data, at), lambda index, at=at: (*at, index, "id"), "duplicate id '{}'")
    for index, issue in enumerate(_items(data, ("cohesion", "issues"))):
        positions = _items(issue, ("positions",))
        members = [(n, p["member"]) for n, p in enumerate(positions) if isinstance(p.get("member"), str)]
        at = ("cohesion", "issues", index, "positions")
        yield from _unique(
            members, lambda n, at=at: (*at, n, "member"), "member '{}' already has a position on this issue"
        )


def cross_check(assessment: Assessment, editions: Collection[str] | None = None) -> Iterator[Problem]:
    """Checks over a whole valid document: its dates, sources nothing cites, audiences that do not fit.

    editions are the project's; without them, the editions the document's audiences name.
    """
    a = assessment
    cited = {ref for item in (*a.key_judgments, *a.outcomes) for ref in item.sources}
    for index, source in enumerate(a.sources):
        if source.id not in cited:
            yield Problem(("sources", index, "id"), f"source '{source.id}' is never cited", severity=Severity.WARNING)
    yield from _audiences(a, editions)
    if a.brief.published < a.event.date:
        yield Problem(("brief", "published"), f"the brief is dated before the event it assesses ({a.event.date})")


def _audiences(a: Assessment, editions: Collection[str] | None) -> Iterator[Problem]:
    """Nothing may show in an edition where what it rests on is left out."""
    named = {edition for item in restrictables(a) for edition in item.audience or ()}
    everywhere = set(editions) if editions else named | {"*"}

    def seen_in(item: Restrictable) -> set[str]:
        return everywhere if item.audience is None else set(item.audience)

    sources = {source.id: source for source in a.sources}
    for section, items in (("key_judgments", a.key_judgments), ("outcomes", a.outcomes)):
        for index, item in enumerate(items):
            for number, ref in enumerate(item.sources):
                missing = seen_in(item) - seen_in(sources[ref])
                if missing:
                    shown = "every edition" if "*" in missing else ", ".join(sorted(missing))
                    message = f"cites source '{ref}', which is left out of {shown}; narrow this item's audience"
                    yield Problem((section, index, "sources", number), message)
    scenarios = {scenario.id: scenario for scenario in a.outlook.scenarios}
    for index, indicator in enumerate(a.outlook.indicators):
        target = scenarios.get(indicator.points_to or "")
        if target is not None and seen_in(indicator) - seen_in(target):
            message = f"points to scenario '{target.id}', which some of this indicator's editions leave out"
            yield Problem(("outlook", "indicators", index, "points_to"), message)


def _value_at(data: Any, keys: DataPath) -> Any:
    """The raw value at keys, or None when the data has another shape on the way."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _items(data: Any, keys: DataPath) -> list[dict[str, Any]]:
    """The mappings in the list at keys, or none when the data has another shape there."""
    data = _value_at(data, keys)
    return [item if isinstance(item, dict) else {} for item in data] if isinstance(data, list) else []


def _ids(data: Any, keys: DataPath) -> list[tuple[int, str]]:
    return [(i, item["id"]) for i, item in enumerate(_items(data, keys)) if isinstance(item.get("id"), str)]


def _unique(values: list[tuple[int, str]], path_of: Callable[[int], DataPath], message: str) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for index, value in values:
        if value in first:
            yield Problem(path_of(index), message.format(value), path_of(first[value]))
        first.setdefault(value, index)


def locate(problem: Problem, document: SourceDocument) -> Diagnostic:
    """A finding as a diagnostic at its line and column in the document."""
    span = document.span(problem.at)
    message = problem.message
    if problem.first_at is not None:
        message += f" (first on line {document.span(problem.first_at).line})"
    return Diagnostic(display_path(document.path), message, span.line, span.column, problem.severity)


def _describe(error: Any, document: SourceDocument, model: type[BaseModel], depth: int = 0) -> Diagnostic:
    """Turn one pydantic error into a located, readable diagnostic."""
    loc: DataPath = tuple(error["loc"])
    kind: str = error["type"]
    shown = display_path(document.path)
    if kind == "extra_forbidden":
        span = document.span(loc)
        key = str(loc[-1])
        allowed = _fields_at(model, loc[depth:-1])
        hint = suggestion(key, allowed) if allowed else ""
        return Diagnostic(
            shown, f"unknown key '{key}'{hint}", span.key_line or span.line, span.key_column or span.column
        )
    if kind == "missing":
        span = document.span(loc[:-1])
        where = f" in '{loc[-2]}'" if len(loc) > 1 and isinstance(loc[-2], str) else ""
        return Diagnostic(shown, f"missing required key '{loc[-1]}'{where}", span.line, span.column)
    span = document.span(loc)
    if isinstance(error["input"], Unreadable):
        return Diagnostic(shown, error["input"].message, span.line, span.column)
    if span.implicit == "empty (null)" and not span.raw and loc in document.spans:
        return Diagnostic(shown, "needs a value", span.line, span.column)
    message = error_message(error)
    if span.implicit and kind in TEXT_EXPECTED and loc in document.spans and _quoting_fixes(error, span.raw or ""):
        message += f'; YAML read {span.raw!r} as {span.implicit}: put it in quotes, "{span.raw}"'
    return Diagnostic(shown, message, span.line, span.column)


def _quoting_fixes(error: Any, raw: str) -> bool:
    """Whether the text as written, quoted so that YAML keeps it text, would be valid where it stands."""
    if error["type"] == "enum":
        return raw in re.findall(r"'([^']*)'", error["ctx"]["expected"])
    if error["type"] == "string_pattern_mismatch":
        return re.fullmatch(error["ctx"]["pattern"], raw) is not None
    return True


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    return "a number" if isinstance(value, int | float) else "a single value"


def error_message(error: Any) -> str:
    """One pydantic error's message in briefgen's words, without its place."""
    kind: str = error["type"]
    if kind in {"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"}:
        return _date_message(error["input"])
    if kind == "string_pattern_mismatch" and error["ctx"]["pattern"] in PATTERN_MESSAGES:
        return PATTERN_MESSAGES[error["ctx"]["pattern"]]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in {"model_type", "dict_type"}:
        return f"expected keys with values (key: value lines), found {_kind_of(error['input'])}"
    if kind == "enum":
        choices = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        return f"'{error['input']}' is not one of: {', '.join(choices)}{suggestion(str(error['input']), choices)}"
    if kind == "too_short" and error["ctx"].get("actual_length") == 0:
        least = error["ctx"]["min_length"]
        return f"needs at least {least} item{'' if least == 1 else 's'}"
    message = str(error["msg"])
    return message[0].lower() + message[1:]


def _date_message(value: Any) -> str:
    """Why a value is no date: the calendar's reason when it is written as YYYY-MM-DD, else the format."""
    if isinstance(value, str) and DATE_SHAPE.fullmatch(value):
        try:
            dt.date.fromisoformat(value)
        except ValueError as exc:
            return f"'{value}' is not a date: {exc}"
    return "expected a date written as YYYY-MM-DD"


def _fields_at(root: type[BaseModel], loc: DataPath) -> list[str]:
    """The keys allowed at a location, found by walking the models along it."""
    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return []
        model = _model_in(model.model_fields[part].annotation)
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _model_in(annotation: Any) -> Any:
    """The model class inside an annotation such as list[X], X | None or Annotated[X, ...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType, typing.Annotated):
        for argument in typing.get_args(annotation):
            if (found := _model_in(argument)) is not None:
                return found
    return None


def _sorted(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.line or 0, d.column or 0, d.message))
