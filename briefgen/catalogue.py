"""The catalogue page's view of a build folder's manifest: one entry per brief, newest first, each with
every build of it the folder holds (the full brief, its editions, and where one was built into two
folders, both) side by side."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import babel


@dataclass(frozen=True)
class Variant:
    """One build of a brief: the full brief (edition None) or one edition of it."""

    edition: str | None
    outputs: Mapping[str, Mapping[str, Any]]  # by format name, as the manifest records them (path, pages…)
    place: str  # its folder inside the build folder, given only where the same edition lies in two folders
    outdated: bool  # its last build failed: these are the files of an earlier one


@dataclass(frozen=True)
class Entry:
    """A brief in the catalogue."""

    id: str
    summary: Mapping[str, Any]  # title, series, published (ISO 8601), published_text, language, bottom_line
    variants: tuple[Variant, ...]  # the full brief first, then editions by name

    @property
    def year(self) -> str:
        return str(self.summary["published"])[:4]

    @property
    def link(self) -> str:
        """Where the title leads: the first build's HTML, else its first output."""
        outputs = self.variants[0].outputs
        return str((outputs.get("html") or next(iter(outputs.values())))["path"])


@dataclass(frozen=True)
class Catalogue:
    """Every brief of a build folder, and what a reader can filter them by."""

    entries: tuple[Entry, ...]  # newest first
    series: tuple[str, ...]  # every series, in alphabetical order
    languages: Mapping[str, str]  # each brief's language code to its name, in the catalogue's language
    with_editions: bool  # whether any edition was built: the full brief beside them says it holds everything


def catalogue(briefs: Iterable[Mapping[str, Any]], language: str) -> Catalogue:
    """The catalogue of a manifest's entries (those with a summary); language names are in `language`."""
    by_id: dict[str, list[Mapping[str, Any]]] = {}
    for brief in briefs:
        if "summary" in brief and brief.get("outputs"):
            by_id.setdefault(brief["id"], []).append(brief)
    entries = sorted((_entry(brief_id, builds) for brief_id, builds in by_id.items()), key=_title_then_id)
    entries.sort(key=lambda entry: str(entry.summary["published"]), reverse=True)
    codes = sorted({str(entry.summary["language"]) for entry in entries})
    return Catalogue(
        entries=tuple(entries),
        series=tuple(sorted({str(entry.summary["series"]) for entry in entries}, key=str.casefold)),
        languages={code: _language_name(code, language) for code in codes},
        with_editions=any(variant.edition for entry in entries for variant in entry.variants),
    )


def _entry(brief_id: str, builds: Sequence[Mapping[str, Any]]) -> Entry:
    ordered = sorted(builds, key=lambda build: (build.get("edition") or "", _place(build)))
    editions = [build.get("edition") for build in ordered]
    variants = tuple(
        Variant(
            edition=build.get("edition"),
            outputs=dict(sorted(build["outputs"].items())),
            place=_place(build) if editions.count(build.get("edition")) > 1 else "",
            outdated=bool(build.get("outdated")),
        )
        for build in ordered
    )
    return Entry(id=brief_id, summary=ordered[0]["summary"], variants=variants)


def _place(build: Mapping[str, Any]) -> str:
    """The folder, inside the build folder, that a build's outputs lie in ("" for the build folder itself)."""
    first = next(iter(build["outputs"].values()), {})
    return str(first.get("path", "")).rpartition("/")[0]


def _title_then_id(entry: Entry) -> tuple[str, str]:
    return str(entry.summary["title"]).casefold(), entry.id


def _language_name(code: str, language: str) -> str:
    """The name of the language of a code, in the given language and capitalised ("Russian", "Английский");
    the code itself when Babel knows neither."""
    try:
        name = babel.Locale.parse(code, sep="-").get_display_name(babel.Locale.parse(language, sep="-"))
    except (ValueError, babel.UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code
