"""Stage 3, analyse: derive the figures a brief shows from a validated assessment, for one edition.

Nothing here formats text: it counts, orders and cross-tabulates, so that
templates only lay out what the data already says.
"""

from collections import Counter
from dataclasses import dataclass

from briefgen.editions import keeps_parts, select
from briefgen.models import Assessment, ContestedIssue, Lever, Member, Outcome, Source, Stance, Strength, Verdict
from briefgen.validate import ValidatedAssessment


@dataclass(frozen=True)
class Scorecard:
    """The summit's outcomes sorted by verdict, with counts."""

    successes: tuple[Outcome, ...]
    mixed: tuple[Outcome, ...]
    failures: tuple[Outcome, ...]

    @property
    def total(self) -> int:
        return len(self.successes) + len(self.mixed) + len(self.failures)


@dataclass(frozen=True)
class Cell:
    stance: Stance
    note: str | None


@dataclass(frozen=True)
class IssueRow:
    """One contested issue across every member, undeclared where no position was given."""

    id: str
    title: str
    cells: tuple[Cell, ...]
    counts: dict[Stance, int]

    @property
    def divided(self) -> bool:
        """Members stand on both sides of the issue."""
        return self.counts[Stance.SUPPORTS] > 0 and self.counts[Stance.OPPOSES] > 0

    @property
    def agreement(self) -> int:
        """Percent of members on the larger side (supporting or opposing)."""
        total = sum(self.counts.values())
        return round(100 * max(self.counts[Stance.SUPPORTS], self.counts[Stance.OPPOSES]) / total)


@dataclass(frozen=True)
class Exposure:
    """How strongly the dominant power can press one member."""

    member: Member
    levers: tuple[Lever, ...]

    @property
    def strongest(self) -> Strength | None:
        order = list(Strength)
        return max((lever.strength for lever in self.levers), key=order.index, default=None)


@dataclass(frozen=True)
class Citation:
    """A source and the number the brief cites it by (its grade's words are labels of the templates)."""

    number: int
    source: Source


@dataclass(frozen=True)
class Analysis:
    """Everything a template needs: the assessment and the figures derived from it."""

    brief_id: str
    edition: str | None
    assessment: Assessment
    full_text_of_editions: bool  # the full brief (no edition) of an assessment with parts kept to some editions
    scorecard: Scorecard
    matrix: tuple[IssueRow, ...]
    power: Member | None
    exposures: tuple[Exposure, ...]
    citations: tuple[Citation, ...]

    def cite(self, source_id: str) -> Citation:
        """The numbered citation of a source."""
        return next(citation for citation in self.citations if citation.source.id == source_id)

    @property
    def divided_issues(self) -> int:
        return sum(row.divided for row in self.matrix)


def analyse(validated: ValidatedAssessment, edition: str | None = None) -> Analysis:
    """Cut the assessment for an edition, then derive its scorecard, matrix, leverage and citations."""
    a = select(validated.assessment, edition)
    members = {member.id: member for member in a.event.members}
    levers = a.leverage.levers if a.leverage is not None else []
    power = a.leverage.power if a.leverage is not None else None
    return Analysis(
        brief_id=validated.brief_id,
        edition=edition,
        assessment=a,
        full_text_of_editions=edition is None and keeps_parts(validated.assessment),
        scorecard=Scorecard(
            successes=tuple(o for o in a.outcomes if o.verdict is Verdict.SUCCESS),
            mixed=tuple(o for o in a.outcomes if o.verdict is Verdict.MIXED),
            failures=tuple(o for o in a.outcomes if o.verdict is Verdict.FAILURE),
        ),
        matrix=tuple(_issue_row(issue, a) for issue in a.cohesion.issues) if a.cohesion is not None else (),
        power=members[power] if power is not None else None,
        exposures=tuple(
            Exposure(member, tuple(lever for lever in levers if member.id in lever.over))
            for member in a.event.members
            if member.id != power
        ),
        citations=_citations(a),
    )


def _issue_row(issue: ContestedIssue, assessment: Assessment) -> IssueRow:
    given = {position.member: position for position in issue.positions}
    cells = tuple(
        Cell(given[m.id].stance, given[m.id].note) if m.id in given else Cell(Stance.UNDECLARED, None)
        for m in assessment.event.members
    )
    counts = Counter(cell.stance for cell in cells)
    return IssueRow(issue.id, issue.title, cells, {stance: counts[stance] for stance in Stance})


def _citations(assessment: Assessment) -> tuple[Citation, ...]:
    """Number sources in the order the brief first cites them; uncited ones come last."""
    order: list[str] = []
    for item in (*assessment.key_judgments, *assessment.outcomes):
        order.extend(ref for ref in item.sources if ref not in order)
    order.extend(source.id for source in assessment.sources if source.id not in order)
    by_id = {source.id: source for source in assessment.sources}
    return tuple(Citation(number, by_id[source_id]) for number, source_id in enumerate(order, start=1))
