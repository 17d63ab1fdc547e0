"""Translated labels and dates: everything a brief says that is not in its source.

Labels live in ``labels/LANG.yaml`` on the template search path. Every layer's
file for the language is merged, nearer layers winning key by key, so a project
can change one label without copying the rest. Dates follow the language's
conventions through Babel, in the pattern the labels give as ``date_format``;
typographic quotes in prose are the labels' ``quotes`` (primary then secondary pair).
"""

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import babel
import babel.dates
import jinja2
from pydantic import RootModel

from briefgen.errors import BriefgenError, Diagnostic, display_path
from briefgen.load import load_source
from briefgen.models import Text
from briefgen.validate import validate_model


class LabelsFile(RootModel[dict[str, Text | dict[str, Text]]]):
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
            raise jinja2.TemplateRuntimeError(f"no label '{key}' for language '{self.language}' in {shown}") from None

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
    """Merge labels/LANG.yaml (or labels/BASE.yaml for a regional tag such as en-GB) from every layer."""
    for candidate in dict.fromkeys([language, language.split("-")[0]]):
        files = [folder / "labels" / f"{candidate}.yaml" for folder in search_path]
        files = [path for path in files if path.is_file()]
        if files:
            merged: dict[str, Any] = {}
            for path in reversed(files):
                for key, value in validate_model(load_source(path), LabelsFile).root.items():
                    merged[key] = {**merged[key], **value} if isinstance(value, dict) and key in merged else value
            return Labels(language, merged, files)
    message = f"no labels for language '{language}': add templates/labels/{language}.yaml (start from labels/en.yaml)"
    raise BriefgenError([Diagnostic(display_path(search_path[0]), message)])


def format_date(value: dt.date, labels: Labels) -> str:
    """A date in the labels' pattern and language, e.g. '8 November 2018' or '8 ноября 2018 г.'."""
    return babel.dates.format_date(value, format=labels["date_format"], locale=_locale(labels.language))


def _locale(language: str) -> babel.Locale:
    try:
        return babel.Locale.parse(language, sep="-")
    except (ValueError, babel.UnknownLocaleError):
        return babel.Locale.parse("en")
