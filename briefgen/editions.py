"""Editions: the same assessment cut for one audience, such as public or restricted.

An item or section with an ``audience`` appears only in the editions it names;
everything else appears in all of them. The full brief (no edition) keeps
everything. Validation has already made sure nothing kept rests on something
left out.
"""

from collections.abc import Iterator
from typing import TypeVar

from briefgen.models import Assessment, Restrictable

Item = TypeVar("Item", bound=Restrictable)


def select(assessment: Assessment, edition: str | None) -> Assessment:
    """The assessment as the given edition shows it; sections left out become None."""
    if edition is None:
        return assessment

    def keep(items: list[Item]) -> list[Item]:
        return [item for item in items if item.in_edition(edition)]

    a = assessment
    cohesion = a.cohesion.model_copy(update={"issues": keep(a.cohesion.issues)})
    leverage = a.leverage.model_copy(update={"levers": keep(a.leverage.levers)})
    outlook = a.outlook.model_copy(
        update={"scenarios": keep(a.outlook.scenarios), "indicators": keep(a.outlook.indicators)}
    )
    return a.model_copy(
        update={
            "key_judgments": keep(a.key_judgments),
            "outcomes": keep(a.outcomes),
            "cohesion": cohesion if cohesion.in_edition(edition) else None,
            "leverage": leverage if leverage.in_edition(edition) else None,
            "outlook": outlook if outlook.in_edition(edition) else None,
            "sources": keep(a.sources),
        }
    )


def keeps_parts(assessment: Assessment) -> bool:
    """Whether any item or section is meant for some editions only: the full brief then holds parts that some
    editions leave out."""
    return any(part.audience is not None for part in restrictables(assessment))


def restrictables(a: Assessment) -> Iterator[Restrictable]:
    """Every item and section of a full assessment that may carry an audience."""
    yield from (*a.key_judgments, *a.outcomes, *a.sources, a.cohesion, *a.cohesion.issues)
    yield from (a.leverage, *a.leverage.levers, a.outlook, *a.outlook.scenarios, *a.outlook.indicators)
