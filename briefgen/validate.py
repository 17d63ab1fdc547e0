"""Stage 2, validate: turn loaded data into an Assessment, or report every problem at its line.

Pydantic checks each value's shape; the cross-checks below check what spans the
document (references resolve, positions name members, ids are unique). Every
problem becomes a Diagnostic pointing at the offending value in the YAML.
"""

import difflib
import re
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from briefgen.errors import BriefgenError, Diagnostic, Severity, display_path
from briefgen.load import DataPath, SourceDocument
from briefgen.models import Assessment


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


def validate(document: SourceDocument) -> ValidatedAssessment:
    """Validate a loaded source; raise BriefgenError listing every error in it."""
    try:
        assessment = Assessment.model_validate(document.data)
    except ValidationError as exc:
        raise BriefgenError(_sorted(_describe(error, document) for error in exc.errors())) from None
    problems = [_locate(problem, document) for problem in cross_check(assessment)]
    errors = [problem for problem in problems if problem.severity is Severity.ERROR]
    if errors:
        raise BriefgenError(_sorted(errors))
    return ValidatedAssessment(document, assessment, tuple(_sorted(problems)))


def cross_check(assessment: Assessment) -> Iterator[Problem]:
    """Checks that span the whole document; each finding names the path of the offending value."""
    a = assessment
    yield from _unique_ids(("event", "members"), [m.id for m in a.event.members])
    yield from _unique_ids(("key_judgments",), [j.id for j in a.key_judgments])
    yield from _unique_ids(("outcomes",), [o.id for o in a.outcomes])
    yield from _unique_ids(("cohesion", "issues"), [i.id for i in a.cohesion.issues])
    yield from _unique_ids(("outlook", "scenarios"), [s.id for s in a.outlook.scenarios])
    yield from _unique_ids(("sources",), [s.id for s in a.sources])

    members = [m.id for m in a.event.members]
    for index, attendee in enumerate(a.event.attendees):
        if attendee.member is not None:
            yield from _reference(("event", "attendees", index, "member"), attendee.member, members, "member")
    for index, issue in enumerate(a.cohesion.issues):
        seen: dict[str, int] = {}
        for number, position in enumerate(issue.positions):
            at = ("cohesion", "issues", index, "positions", number, "member")
            yield from _reference(at, position.member, members, "member")
            if position.member in seen:
                first = ("cohesion", "issues", index, "positions", seen[position.member], "member")
                yield Problem(at, f"member '{position.member}' already has a position on this issue", first)
            seen.setdefault(position.member, number)
    yield from _reference(("leverage", "power"), a.leverage.power, members, "member")
    for index, lever in enumerate(a.leverage.levers):
        for number, target in enumerate(lever.over):
            yield from _reference(("leverage", "levers", index, "over", number), target, members, "member")

    scenarios = [s.id for s in a.outlook.scenarios]
    for index, indicator in enumerate(a.outlook.indicators):
        if indicator.points_to is not None:
            at = ("outlook", "indicators", index, "points_to")
            yield from _reference(at, indicator.points_to, scenarios, "scenario")

    sources = [s.id for s in a.sources]
    cited: set[str] = set()
    for section, items in (("key_judgments", a.key_judgments), ("outcomes", a.outcomes)):
        for index, item in enumerate(items):
            for number, ref in enumerate(item.sources):
                cited.add(ref)
                yield from _reference((section, index, "sources", number), ref, sources, "source")
    for index, source in enumerate(a.sources):
        if source.id not in cited:
            yield Problem(("sources", index, "id"), f"source '{source.id}' is never cited", severity=Severity.WARNING)

    if a.brief.published < a.event.date:
        yield Problem(("brief", "published"), f"the brief is dated before the event it assesses ({a.event.date})")


def _unique_ids(at: DataPath, ids: list[str]) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for index, value in enumerate(ids):
        if value in first:
            yield Problem((*at, index, "id"), f"duplicate id '{value}'", (*at, first[value], "id"))
        first.setdefault(value, index)


def _reference(at: DataPath, value: str, known: list[str], kind: str) -> Iterator[Problem]:
    if value not in known:
        hint = _suggestion(value, known) or f"; known {kind}s: {', '.join(known)}"
        yield Problem(at, f"unknown {kind} '{value}'{hint}")


def _suggestion(value: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _locate(problem: Problem, document: SourceDocument) -> Diagnostic:
    span = document.span(problem.at)
    message = problem.message
    if problem.first_at is not None:
        message += f" (first on line {document.span(problem.first_at).line})"
    return Diagnostic(display_path(document.path), message, span.line, span.column, problem.severity)


def _describe(error: Any, document: SourceDocument) -> Diagnostic:
    """Turn one pydantic error into a located, readable diagnostic."""
    loc: DataPath = tuple(error["loc"])
    kind: str = error["type"]
    shown = display_path(document.path)
    if kind == "extra_forbidden":
        span = document.span(loc)
        key = str(loc[-1])
        allowed = _fields_at(loc[:-1])
        hint = _suggestion(key, allowed) if allowed else ""
        return Diagnostic(
            shown, f"unknown key '{key}'{hint}", span.key_line or span.line, span.key_column or span.column
        )
    if kind == "missing":
        span = document.span(loc[:-1])
        where = f" in '{loc[-2]}'" if len(loc) > 1 and isinstance(loc[-2], str) else ""
        return Diagnostic(shown, f"missing required key '{loc[-1]}'{where}", span.line, span.column)
    span = document.span(loc)
    message = _message(kind, error)
    if span.implicit and loc in document.spans:
        message += f'; YAML read {span.raw!r} as {span.implicit}: put it in quotes, "{span.raw}"'
    return Diagnostic(shown, message, span.line, span.column)


def _message(kind: str, error: Any) -> str:
    if kind in {"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"}:
        return "expected a date written as YYYY-MM-DD"
    if kind == "string_pattern_mismatch" and "\\n" in str(error.get("ctx", {}).get("pattern", "")):
        return "must be a single line; use a prose field for longer text"
    if kind == "string_pattern_mismatch" and "A-F" in str(error.get("ctx", {}).get("pattern", "")):
        return "expected an Admiralty grade: a letter A-F then a digit 1-6, e.g. B2"
    if kind == "string_pattern_mismatch" and "a-z0-9" in str(error.get("ctx", {}).get("pattern", "")):
        return "expected an id made of lower-case letters, digits and hyphens, e.g. 'inf-treaty'"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "enum":
        choices = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        return f"'{error['input']}' is not one of: {', '.join(choices)}{_suggestion(str(error['input']), choices)}"
    if kind == "too_short" and error["ctx"].get("actual_length") == 0:
        return f"needs at least {error['ctx']['min_length']} item"
    message = str(error["msg"])
    return message[0].lower() + message[1:]


def _fields_at(loc: DataPath) -> list[str]:
    """The keys allowed at a location, found by walking the models along it."""
    model: Any = Assessment
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
