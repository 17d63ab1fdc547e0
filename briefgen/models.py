"""The source format: a structured assessment of a summit, as pydantic models.

Every model forbids unknown keys. Prose fields take a safe subset of Markdown
(emphasis, links, lists) and refuse raw HTML, images and links other than http,
https and mailto (see :mod:`briefgen.prose`). References to members, sources
and scenarios are checked against the ids the document declares, passed in the
validation context (see :mod:`briefgen.validate`), so that a dangling reference
is reported in the same pass as every other error, at its own position.
"""

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, ValidationInfo

from briefgen.prose import prose_problem

SINGLE_LINE_PATTERN = r"^[^\n\r]*$"
IDENTIFIER_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
# A brief's id, its source's file name: identifiers joined by dots, as in a language variant (csto-astana-2018.ru).
BRIEF_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
GRADE_PATTERN = r"^[A-F][1-6]$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# C0 controls but tab and line breaks, and DEL: invisible in a brief, or garbage in its PDF
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _safe_markdown(text: str) -> str:
    """Refuse prose that would not print as written: raw HTML, images, links to other than web or mail."""
    if problem := prose_problem(text):
        raise ValueError(problem)
    return text


def _no_invisible_controls(text: str) -> str:
    if BIDI_CONTROLS.search(text):
        raise ValueError("bidirectional control characters are not allowed: they can make text read differently")
    if found := CONTROL_CHARACTERS.search(text):
        raise ValueError(f"the control character U+{ord(found.group()):04X} is not allowed; remove it")
    return text


def closest(value: str, candidates: Iterable[str]) -> str | None:
    """The candidate a misspelt name most likely meant, if any is close: first one that differs only in case
    ('A4' for 'a4', which difflib finds too far), then the closest spelling."""
    candidates = list(candidates)
    if same := [candidate for candidate in candidates if candidate.casefold() == value.casefold()]:
        return same[0]
    close = difflib.get_close_matches(value, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def suggestion(value: str, candidates: Iterable[str]) -> str:
    """A '; did you mean ...?' hint for a misspelt name, or nothing."""
    meant = closest(value, candidates)
    return f"; did you mean '{meant}'?" if meant else ""


def _declared(kind: str) -> AfterValidator:
    """Check that an id names a declared member, source or scenario, when the context lists them."""

    def check(value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get(kind)
        if known is not None and value not in known:
            hint = suggestion(value, known) or f"; known {kind}s: {', '.join(known) or 'none'}"
            raise ValueError(f"unknown {kind} '{value}'{hint}")
        return value

    return AfterValidator(check)


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=SINGLE_LINE_PATTERN),
    AfterValidator(_no_invisible_controls),
]
Prose = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000),
    AfterValidator(_safe_markdown),
    AfterValidator(_no_invisible_controls),
]
Identifier = Annotated[
    str,
    StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=60),
    Field(description="A short lower-case id made of letters, digits and hyphens, e.g. 'inf-treaty'."),
]
MemberRef = Annotated[Identifier, _declared("member"), Field(description="Id of a member in `event.members`.")]
SourceRef = Annotated[Identifier, _declared("source")]
ScenarioRef = Annotated[
    Identifier, _declared("scenario"), Field(description="Id of a scenario in `outlook.scenarios`.")
]
ThemeRef = Annotated[Identifier, _declared("theme")]
EditionRef = Annotated[Identifier, _declared("edition")]
Audience = Annotated[
    list[EditionRef] | None,
    Field(description="The editions this appears in, e.g. [restricted] (default: every edition)."),
]
SourceRefs = Annotated[
    list[SourceRef],
    Field(min_length=1, description="Ids of entries in `sources` that this rests on."),
]


class Model(BaseModel):
    """Base for every part of an assessment: strict about keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Restrictable(Model):
    """An item or section that may be meant for some editions only."""

    audience: Audience = None

    def in_edition(self, edition: str | None) -> bool:
        """Whether this appears in an edition (None: the full brief, everything)."""
        return edition is None or self.audience is None or edition in self.audience


class Likelihood(StrEnum):
    """The standard estimative lexicon, each word tied to a probability range."""

    ALMOST_NO_CHANCE = "almost no chance"
    VERY_UNLIKELY = "very unlikely"
    UNLIKELY = "unlikely"
    ROUGHLY_EVEN_CHANCE = "roughly even chance"
    LIKELY = "likely"
    VERY_LIKELY = "very likely"
    ALMOST_CERTAIN = "almost certain"

    @property
    def range(self) -> tuple[int, int]:
        """The probability range in percent, low and high."""
        return LIKELIHOOD_RANGES[self]


LIKELIHOOD_RANGES: dict[Likelihood, tuple[int, int]] = {
    Likelihood.ALMOST_NO_CHANCE: (1, 5),
    Likelihood.VERY_UNLIKELY: (5, 20),
    Likelihood.UNLIKELY: (20, 45),
    Likelihood.ROUGHLY_EVEN_CHANCE: (45, 55),
    Likelihood.LIKELY: (55, 80),
    Likelihood.VERY_LIKELY: (80, 95),
    Likelihood.ALMOST_CERTAIN: (95, 99),
}


class Confidence(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class Verdict(StrEnum):
    SUCCESS = "success"
    MIXED = "mixed"
    FAILURE = "failure"


class Stance(StrEnum):
    SUPPORTS = "supports"
    OPPOSES = "opposes"
    ABSTAINS = "abstains"
    UNDECLARED = "undeclared"


class Strength(StrEnum):
    WEAK = "weak"
    MODERATE = "moderate"
    STRONG = "strong"


class Author(Model):
    name: Text
    affiliation: Text | None = None


class Brief(Model):
    """The publication: what the reader sees on the cover."""

    title: Text
    subtitle: Text | None = None
    standfirst: Prose | None = Field(None, description="One or two sentences under the title.")
    series: Text = Field(description="The publication series, e.g. Commentary or Policy Brief.")
    published: dt.date
    authors: list[Author] = Field(min_length=1)
    language: Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)] | None = Field(
        None, description="The brief's language, e.g. en or ru (default: the project's language)."
    )
    theme: ThemeRef | None = Field(None, description="The theme to render with (default: the project's theme).")
    keywords: list[Text] = []


class Organisation(Model):
    name: Text
    abbreviation: Text


class Member(Model):
    id: Identifier
    name: Text = Field(description="The member state's name, e.g. Armenia.")
    leader: Text | None = Field(None, description="Head of state or government at the time of the event.")


class Attendee(Model):
    name: Text
    role: Text
    member: MemberRef | None = Field(None, description="The member this attendee represents, if any.")


class Event(Model):
    name: Text
    organisation: Organisation
    members: list[Member] = Field(min_length=2)
    location: Text
    date: dt.date
    attendees: list[Attendee] = []


class KeyJudgment(Restrictable):
    id: Identifier
    statement: Prose
    likelihood: Likelihood
    confidence: Confidence
    sources: SourceRefs


class Outcome(Restrictable):
    id: Identifier
    title: Text
    verdict: Verdict
    significance: Prose
    actors: list[Text] = Field(min_length=1)
    evidence: Prose
    sources: SourceRefs


class Position(Model):
    member: MemberRef
    stance: Stance
    note: Text | None = None


class ContestedIssue(Restrictable):
    id: Identifier
    title: Text
    description: Prose | None = None
    positions: list[Position] = Field(min_length=1)


class Cohesion(Restrictable):
    assessment: Prose
    issues: list[ContestedIssue] = []


class Lever(Restrictable):
    instrument: Text
    over: list[MemberRef] = Field(min_length=1, description="Ids of the members this lever works on.")
    strength: Strength
    note: Prose | None = None


class Leverage(Restrictable):
    power: MemberRef = Field(description="Id of the dominant member, e.g. 'russia'.")
    assessment: Prose
    levers: list[Lever] = Field(min_length=1)


class Scenario(Restrictable):
    id: Identifier
    title: Text
    description: Prose
    likelihood: Likelihood


class Indicator(Restrictable):
    signal: Text
    points_to: ScenarioRef | None = Field(None, description="Id of the scenario this signal would point to.")


class Outlook(Restrictable):
    horizon: Text = Field(description="The period the outlook covers, e.g. '12 months'.")
    assessment: Prose
    scenarios: list[Scenario] = Field(min_length=1)
    indicators: list[Indicator] = []


Reliability = Annotated[
    str,
    StringConstraints(pattern=GRADE_PATTERN),
    Field(description="Admiralty grade: source reliability A-F then information credibility 1-6, e.g. B2."),
]


class Source(Restrictable):
    id: Identifier
    title: Text
    author: Text | None = None
    publisher: Text | None = None
    date: dt.date | None = None
    url: HttpUrl | None = None
    reliability: Reliability


class Assessment(Model):
    """A structured assessment of one political event: the whole source file."""

    brief: Brief
    event: Event
    bottom_line: Prose = Field(description="The bottom line up front: the brief's conclusion in a few sentences.")
    key_judgments: list[KeyJudgment] = Field(min_length=1)
    outcomes: list[Outcome] = Field(min_length=1)
    cohesion: Cohesion
    leverage: Leverage
    outlook: Outlook
    sources: list[Source] = Field(min_length=1)
