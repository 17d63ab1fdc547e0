"""The project config, ``briefgen.yaml``: brand, colours, fonts, paper, language, theme, network.

It is loaded and validated like a source, with the same ``PATH:LINE:COL`` errors;
file paths in it (logo, fonts) must name regular files inside the project. A valid config
may still raise warnings, located the same way, that never fail a command: a font file whose
weight or style contradicts the face it is given for.
"""

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo

from briefgen.errors import Diagnostic, Severity
from briefgen.load import load_source
from briefgen.models import COLOUR_PATTERN, LANGUAGE_PATTERN, Identifier, Model, Text, ThemeRef
from briefgen.theming import theme_names
from briefgen.validate import Problem, locate, validate_model

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


FACES = ("regular", "italic", "bold")  # the faces of a FontFamily, each named by its kind (see _kind)
BOLD_WEIGHT = 600  # OS/2 usWeightClass from semibold up counts as bold


@dataclass(frozen=True)
class LoadedConfig:
    """A project's checked config, the warnings checking it raised, and the font files to print under the
    family name the config gives them (each a path relative to the project, and that name)."""

    config: ProjectConfig
    warnings: tuple[Diagnostic, ...] = ()
    renamed_fonts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FontFace:
    """What a font file says it is: its family (the typographic one when it names one), weight and style."""

    family: str
    weight: int
    italic: bool

    @property
    def bold(self) -> bool:
        return self.weight >= BOLD_WEIGHT


def load_config(root: Path) -> LoadedConfig:
    """The project's config from ``briefgen.yaml``, or the defaults when there is none; its theme must be one
    the project has."""
    path = root / CONFIG_NAME
    if not path.is_file():
        return LoadedConfig(ProjectConfig())
    document = load_source(path, allow_empty=True)
    if document.data is None:
        return LoadedConfig(ProjectConfig())
    config = validate_model(document, ProjectConfig, context={"root": root, "theme": theme_names(root)})
    families = {
        role: (family, _faces_of(family, root))
        for role, family in (("body", config.fonts.body), ("headings", config.fonts.headings))
        if family is not None
    }
    warnings = [
        locate(problem, document)
        for role, (family, faces) in families.items()
        for problem in _contradicted_faces(role, family, faces)
    ]
    renamed = tuple(
        (file, family.family)
        for family, faces in families.values()
        if len({face.family for face in faces.values()}) > 1
        for file in dict.fromkeys(getattr(family, name) for name in faces)
    )
    return LoadedConfig(config, tuple(warnings), renamed)


def _faces_of(family: FontFamily, root: Path) -> dict[str, FontFace]:
    """What each file the family names says it is, by the face the config gives it for."""
    return {name: _face_in(root / file) for name in FACES if (file := getattr(family, name)) is not None}


def _face_in(path: Path) -> FontFace:
    from fontTools.ttLib import TTFont  # only projects with fonts of their own pay for the import

    with TTFont(path, fontNumber=0, lazy=True) as font:
        names = font["name"]
        family = names.getDebugName(16) or names.getDebugName(1) or path.stem
        if "OS/2" in font:
            return FontFace(family, font["OS/2"].usWeightClass, bool(font["OS/2"].fsSelection & 1))
        style = font["head"].macStyle  # bit 0 bold, bit 1 italic
        return FontFace(family, 700 if style & 1 else 400, bool(style & 2))


def _contradicted_faces(role: str, family: FontFamily, faces: dict[str, FontFace]) -> Iterator[Problem]:
    """A warning for each file whose weight or style is not that of the face the config gives it for."""
    for name, face in faces.items():
        found = _kind(face.bold, face.italic)
        if found != name:
            message = (
                f"'{getattr(family, name)}' is {_a(found)} face ('{face.family}', weight {face.weight}), given as the "
                f"{name} of '{family.family}': {name} text will print {found}; give {_a(name)} file"
            )
            yield Problem(("fonts", role, name), message, severity=Severity.WARNING)


def _a(words: str) -> str:
    return f"{'an' if words.startswith('i') else 'a'} {words}"


def _kind(bold: bool, italic: bool) -> str:
    """A face's kind in words: regular, italic, bold or bold italic."""
    return " ".join(word for word, has in (("bold", bold), ("italic", italic)) if has) or "regular"
