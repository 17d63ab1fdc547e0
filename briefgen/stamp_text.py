"""What a personalised copy's stamp says, and how a recipient too long for one line is shortened.

Widths are counted in widths of a lowercase letter, a capital counting one and a half: a rough measure the
stamp template turns into room on the line (the stamp's stylesheet cuts whatever the count misses). A line
too long is cut fairly: the shorter of name and organisation keeps up to half the room, the longer gets the
rest, so neither disappears; each is cut at a word break where one is near, and ends with an ellipsis.
"""

from collections.abc import Iterator
from dataclasses import dataclass

SEPARATOR = ", "
ELLIPSIS = "…"
TRIMMED_AT_A_CUT = " ,;:·–—-"  # left off the end of a shortened part, before its ellipsis


@dataclass(frozen=True)
class Fitted:
    """A recipient as a stamp shows them, and its width."""

    text: str
    width: float


@dataclass(frozen=True)
class Stamp:
    """One copy's stamp: the recipient's name and organisation, and the copy id."""

    name: str
    organisation: str
    copy_id: str

    @property
    def line(self) -> str:
        return f"{self.name}{SEPARATOR}{self.organisation}"

    def __iter__(self) -> Iterator[str]:
        """The recipient line and the copy id, as a stamp template ejected before Stamp existed unpacks it."""
        return iter((self.line, self.copy_id))

    def fitted(self, room: float) -> Fitted:
        """The recipient line in room: whole when it fits, or else with the longer part shortened first."""
        if width(self.line) <= room:
            return Fitted(self.line, width(self.line))
        parts = room - width(SEPARATOR)
        name_room = _share(width(self.name), width(self.organisation), parts)
        organisation_room = parts - name_room
        text = f"{shortened(self.name, name_room)}{SEPARATOR}{shortened(self.organisation, organisation_room)}"
        return Fitted(text, width(text))


def width(text: str) -> float:
    return sum(1.5 if letter.isupper() else 1 for letter in text)


def _share(own: float, other: float, room: float) -> float:
    """The room of one of two parts: all it needs when the other leaves it that, else half or what the other
    leaves, whichever is more."""
    return max(room / 2, room - other) if own > room / 2 else own


def shortened(text: str, room: float) -> str:
    """text, or its start and an ellipsis within room, cut after a word when that keeps most of the room."""
    if width(text) <= room:
        return text
    kept, used = 0, width(ELLIPSIS)
    while kept < len(text) and used + width(text[kept]) <= room:
        used += width(text[kept])
        kept += 1
    start = text[:kept]
    word_break = start.rfind(" ")
    if word_break > kept / 2:
        start = start[:word_break]
    return start.rstrip(TRIMMED_AT_A_CUT) + ELLIPSIS
