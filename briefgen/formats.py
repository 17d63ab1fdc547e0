"""The formats a brief renders to, and how an output path names one. Light: the command line loads it first."""

from enum import StrEnum
from pathlib import Path

from briefgen.errors import BriefgenError, Diagnostic


class Format(StrEnum):
    PDF = "pdf"
    HTML = "html"


def format_for(output: Path) -> Format:
    """The format an output path asks for, by its suffix."""
    try:
        return Format(output.suffix.lower().lstrip("."))
    except ValueError:
        choices = ", ".join(f".{f}" for f in Format)
        message = f"cannot tell the format from the suffix; use one of {choices}"
        raise BriefgenError([Diagnostic(str(output), message)]) from None
