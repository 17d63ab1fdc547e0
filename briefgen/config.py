"""The project config, ``briefgen.yaml``: brand, colours, fonts, paper, language, theme, network.

It is loaded and validated like a source, with the same ``PATH:LINE:COL`` errors;
file paths in it (logo, fonts) must name regular files inside the project.
"""

import ipaddress
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo

from briefgen.load import load_source
from briefgen.models import COLOUR_PATTERN, LANGUAGE_PATTERN, Identifier, Model, Text, ThemeRef
from briefgen.theming import theme_names
from briefgen.validate import validate_model

CONFIG_NAME = "briefgen.yaml"
HOST_NAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?", re.I
)


def _inside_project(value: str, info: ValidationInfo) -> str:
    root = (info.context or {}).get("root")
    if root is None:
        return value
    path = (root / value).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"'{value}' is outside the project folder")
    if not path.is_file():
        raise ValueError(f"'{value}' is not a file in the project")
    return value


ProjectFile = Annotated[
    str,
    StringConstraints(min_length=1, max_length=300),
    AfterValidator(_inside_project),
    Field(description="A file inside the project, relative to the project folder."),
]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"


def _an_image(value: str, info: ValidationInfo) -> str:
    """A project file that starts as an SVG (with the .svg suffix), a PNG or a JPEG does."""
    root = (info.context or {}).get("root")
    if root is None:
        return value
    try:
        with (root / value).open("rb") as file:
            start = file.read(1024)
    except OSError as exc:
        raise ValueError(f"cannot read '{value}': {exc.strerror}") from None
    svg = b"<svg" in start and Path(value).suffix.lower() == ".svg"
    if not (svg or start.startswith((PNG_SIGNATURE, JPEG_SIGNATURE))):
        raise ValueError(f"'{value}' is not an image: give an SVG, PNG or JPEG file")
    return value


ImageFile = Annotated[ProjectFile, AfterValidator(_an_image)]


def _a_font(value: str, info: ValidationInfo) -> str:
    """A project file that fontTools reads as a TrueType, OpenType or WOFF font with a character map."""
    root = (info.context or {}).get("root")
    if root is None:
        return value
    from fontTools.ttLib import TTFont  # only projects with fonts of their own pay for the import

    try:
        with TTFont(root / value, fontNumber=0, lazy=True) as font:
            font["head"]
            has_letters = bool(font["cmap"].getBestCmap())
    except Exception:  # fontTools fails on a damaged file in many ways (struct, EOF, its own TTLibError…)
        raise ValueError(
            f"'{value}' is not a font briefgen can read (damaged, truncated or another kind of file): "
            "give a TrueType, OpenType or WOFF file"
        ) from None
    if not has_letters:
        raise ValueError(f"'{value}' maps no characters to letters: it is not a font for text")
    return value


FontFile = Annotated[ProjectFile, AfterValidator(_a_font)]
Colour = Annotated[
    str,
    StringConstraints(pattern=COLOUR_PATTERN),
    Field(description="A colour as #rrggbb."),
]


class Paper(StrEnum):
    A4 = "a4"
    LETTER = "letter"


class Brand(Model):
    name: Text = "briefgen"
    logo: ImageFile | None = Field(None, description="An SVG, PNG or JPEG shown in the masthead.")


class Colours(Model):
    accent: Colour = Field("#1b3a5c", description="Headings, rules and the masthead.")
    panel: Colour = Field("#eef1f5", description="The background of the bottom line and key judgments boxes.")


class FontFamily(Model):
    """A font family from files in the project; each weight falls back to the regular file."""

    family: Text
    regular: FontFile
    italic: FontFile | None = None
    bold: FontFile | None = None


class Fonts(Model):
    body: FontFamily | None = None
    headings: FontFamily | None = None


BANNER_LENGTH = 200  # what the band every page keeps for a banner holds (templates/common/base.html.j2)


def _fits_the_band(banner: str) -> str:
    """A banner no longer than the band at the top of every page holds: three lines in any theme."""
    if len(banner) > BANNER_LENGTH:
        raise ValueError(
            f"a banner is marked on every page, in a band of three lines at most: keep it to {BANNER_LENGTH}"
            f" characters (this one has {len(banner)}) and put the rest in the brief"
        )
    return banner


class Edition(Model):
    banner: Annotated[Text, AfterValidator(_fits_the_band)] | None = Field(
        None,
        description=f"A line marked on every page of this edition, e.g. RESTRICTED; up to {BANNER_LENGTH} characters.",
    )


DEFAULT_EDITIONS = {
    "public": Edition(),
    "restricted": Edition(banner="Restricted: not for public distribution"),
}


def is_host_name(text: str) -> bool:
    """Whether text is a bare host name (example.org) or IP address, not a URL or a host with a port."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return HOST_NAME.fullmatch(text) is not None
    return True


def _host_name(value: str) -> str:
    if not is_host_name(value):
        raise ValueError(f"'{value}' is not a host name; give one such as example.org, not a URL")
    return value


class Network(Model):
    allow_hosts: list[Annotated[str, AfterValidator(_host_name)]] = Field(
        [], description="Web hosts rendering may fetch images, CSS and fonts from, e.g. example.org."
    )


class ProjectConfig(Model):
    """Settings for every brief of a project."""

    brand: Brand = Brand()
    colours: Colours = Colours()
    fonts: Fonts = Fonts()
    paper: Paper = Paper.A4
    language: Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)] = "en"
    theme: ThemeRef = "brief"
    editions: dict[Identifier, Edition] = Field(
        default_factory=lambda: dict(DEFAULT_EDITIONS),
        description="The audiences items may be restricted to, each an edition of the brief.",
    )
    network: Network = Network()


def load_config(root: Path) -> ProjectConfig:
    """The project's config from ``briefgen.yaml``, or the defaults when there is none; its theme must be one
    the project has."""
    path = root / CONFIG_NAME
    if not path.is_file():
        return ProjectConfig()
    document = load_source(path, allow_empty=True)
    if document.data is None:
        return ProjectConfig()
    return validate_model(document, ProjectConfig, context={"root": root, "theme": theme_names(root)})
