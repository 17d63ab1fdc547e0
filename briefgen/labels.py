"""Translated labels and dates: everything a brief says that is not in its source.

Labels live in ``labels/LANG.yaml`` on the template search path. Every layer's
file for the language is merged, nearer layers winning key by key, so a project
can change one label without copying the rest. Dates follow the language's
conventions through Babel, in the pattern the labels give as ``date_format``;
typographic quotes in prose are the labels' ``quotes`` (primary then secondary pair).
"""

import datetime as dt
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import babel
import babel.dates
import jinja2
from pydantic import BeforeValidator, Discriminator, RootModel, Tag

from briefgen.errors import BriefgenError, Diagnostic, display_path
from briefgen.load import SourceDocument, load_source, parse_source, read_source_text
from briefgen.models import Text, closest, suggestion
from briefgen.theming import builtin_templates_dir
from briefgen.validate import validate_model

BUILTIN_LABELS = builtin_templates_dir() / "common" / "labels"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _words_or_table(value: Any) -> Any:
    """A list, which is neither words nor a table of words, is refused in one message that says what a label is."""
    if isinstance(value, list):
        raise ValueError("expected words, or keys with words (one per form, as in likelihood), found a list")
    return value


Label = Annotated[
    Annotated[Text, Tag("words")] | Annotated[dict[str, Text], Tag("table")],
    Discriminator(lambda value: "table" if isinstance(value, dict) else "words"),  # errors of the one it is
    BeforeValidator(_words_or_table),
]


class LabelsFile(RootModel[dict[str, Label]]):
    """A labels file: names to words, or to a table of words (e.g. each likelihood)."""


class Labels(Mapping[str, Any]):
    """The labels of one language; a missing label is a template error that names it."""

    def __init__(self, language: str, entries: dict[str, Any], files: Sequence[Path]) -> None:
        self.language = language
        self._entries = entries
        self._files = files

    def __getitem__(self, key: str) -> Any:
        try:
            return self._entries[key]
        except KeyError:
            shown = ", ".join(display_path(path) for path in self._files)
            message = f"no label '{key}' for language '{self.language}' in {shown}{suggestion(key, self._entries)}"
            raise jinja2.TemplateRuntimeError(message) from None

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._entries.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def load_labels(search_path: Sequence[Path], language: str) -> Labels:
    """Merge labels/LANG.yaml (or labels/BASE.yaml for a regional tag such as en-GB) from every layer.

    BriefgenError lists every label the merged files lack and every placeholder the built-in labels lack.
    """
    for candidate in dict.fromkeys([language, language.split("-")[0]]):
        files = [folder / "labels" / f"{candidate}.yaml" for folder in search_path]
        files = [path for path in files if path.is_file()]
        if files:
            reference = _builtin_labels(candidate)
            merged: dict[str, Any] = {}
            problems: list[Diagnostic] = []
            for path in reversed(files):
                document, entries = _labels_file(read_source_text(path), path)
                problems += _unknown_placeholders(document, entries, reference)
                for key, value in entries.items():
                    merged[key] = {**merged[key], **value} if isinstance(value, dict) and key in merged else value
            problems += _missing(files[0], merged)
            if problems:
                raise BriefgenError(problems)
            return Labels(language, merged, files)
    message = f"no labels for language '{language}': add templates/labels/{language}.yaml (start from labels/en.yaml)"
    raise BriefgenError([Diagnostic(display_path(search_path[0]), message)])


@functools.lru_cache(maxsize=32)
def _labels_file(text: str, path: Path) -> tuple[SourceDocument, dict[str, Any]]:
    """A labels file's text parsed, and the labels it gives: once per process for each text (every brief reads
    its labels again, so that an edit is seen). Callers must not change what is returned."""
    document = parse_source(text, path)
    return document, validate_model(document, LabelsFile).root


@functools.cache
def _builtin_labels(language: str) -> dict[str, Any]:
    """briefgen's own labels in a language, or in English when it has none in that language (read once per
    process: they are part of the package)."""
    path = BUILTIN_LABELS / f"{language}.yaml"
    return validate_model(load_source(path if path.is_file() else BUILTIN_LABELS / "en.yaml"), LabelsFile).root


def _unknown_placeholders(
    document: SourceDocument, entries: dict[str, Any], reference: dict[str, Any]
) -> list[Diagnostic]:
    """An error for each placeholder in a label that the built-in label of its key does not take."""
    problems = []
    for key, value in entries.items():
        if key not in reference:
            continue
        known = _placeholders(reference[key])
        forms = value.items() if isinstance(value, dict) else [(None, value)]
        for form, text in forms:
            for name in dict.fromkeys(PLACEHOLDER.findall(text)):
                if name not in known:
                    takes = f"it takes {_listed(known)}" if known else "it takes none"
                    meant = closest(name, known)
                    hint = f" (did you mean {{{meant}}}?)" if meant else ""
                    message = f"unknown placeholder {{{name}}} in {key}; {takes}{hint}"
                    span = document.span((key,) if form is None else (key, form))
                    problems.append(Diagnostic(display_path(document.path), message, span.line, span.column))
    return problems


def _placeholders(value: str | dict[str, str]) -> list[str]:
    """The placeholders of a label, or of every form of a table of words, in order."""
    texts = value.values() if isinstance(value, dict) else [value]
    return list(dict.fromkeys(name for text in texts for name in PLACEHOLDER.findall(text)))


def _listed(names: Sequence[str]) -> str:
    braced = [f"{{{name}}}" for name in names]
    return braced[0] if len(braced) == 1 else f"{', '.join(braced[:-1])} and {braced[-1]}"


def _missing(nearest: Path, merged: Mapping[str, Any]) -> list[Diagnostic]:
    """An error listing every label briefgen's templates use that the merged files lack."""
    missing = [key for key in _builtin_labels("en") if key not in merged]
    if not missing:
        return []
    english = display_path(BUILTIN_LABELS / "en.yaml")
    count = "1 label" if len(missing) == 1 else f"{len(missing)} labels"
    message = f"missing {count}: {', '.join(missing)}; copy {english} as a start and translate it"
    return [Diagnostic(display_path(nearest), message)]


def format_date(value: dt.date, labels: Labels) -> str:
    """A date in the labels' pattern and language, e.g. '8 November 2018' or '8 ноября 2018 г.'."""
    return babel.dates.format_date(value, format=labels["date_format"], locale=_locale(labels.language))


def _locale(language: str) -> babel.Locale:
    try:
        return babel.Locale.parse(language, sep="-")
    except (ValueError, babel.UnknownLocaleError):
        return babel.Locale.parse("en")
