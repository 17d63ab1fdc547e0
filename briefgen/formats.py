"""The formats a brief renders to, how an output path names one, and what a personalised copy's PDF carries.

Light: the command line loads it first.
"""

from enum import StrEnum
from pathlib import Path

from briefgen.errors import Diagnostic, UsageError

# The document-information key under which a personalised copy's PDF carries its copy id (distribute writes
# it, trace reads it): it survives a stamp cropped off the page.
COPY_ID_KEY = "/BriefgenCopyId"


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
        raise UsageError([Diagnostic(str(output), message)]) from None
