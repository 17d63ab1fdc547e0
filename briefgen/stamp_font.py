"""Which letters a copy's stamp can draw, read from the character maps of the fonts that draw it.

The stamp is set in the stamp font (render_html.STAMP_FONT); WeasyPrint takes a letter it lacks from any
font installed on the machine that has it, as fontconfig lists them. A letter no font has prints as a box.
"""

import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path


class StampLetters:
    """The letters a stamp can draw. The installed fonts are read one by one, only as far as a letter the
    stamp font lacks needs them: most names never need them, and reading them all takes seconds."""

    def __init__(self, stamp_font: Path | None) -> None:
        self.drawable = _letters(stamp_font) if stamp_font else set()
        self.unread: Iterator[Path] | None = None  # the installed fonts, listed when first needed

    def missing(self, text: str) -> str:
        """The letters of text that no font has, each once, in order; the stamp prints them as boxes."""
        return "".join(dict.fromkeys(c for c in text if not _invisible(c) and not self.can_draw(c)))

    def can_draw(self, character: str) -> bool:
        while ord(character) not in self.drawable:
            if self.unread is None:
                self.unread = iter(_installed_fonts())
            if (font := next(self.unread, None)) is None:
                return False
            self.drawable |= _letters(font)
        return True


def _invisible(character: str) -> bool:
    """A space, or a character that shapes its neighbours (a joiner, a variation selector): never a box."""
    return unicodedata.category(character) in ("Zs", "Cf") or "VARIATION SELECTOR" in unicodedata.name(character, "")


def _letters(font: Path) -> set[int]:
    """The code points a font file maps to glyphs (every face's, in a collection)."""
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if font.suffix.lower() in (".ttc", ".otc"):
            with TTCollection(font, lazy=True) as collection:
                return {code for face in collection.fonts for code in face.getBestCmap() or {}}
        with TTFont(font, lazy=True) as face:
            return set(face.getBestCmap() or {})
    except Exception:  # a bitmap, Type 1 or damaged font fontTools cannot read: no letter to count on
        return set()


def _installed_fonts() -> list[Path]:
    """The font files fontconfig offers WeasyPrint, each once."""
    from briefgen.native_libraries import libraries_from_ldconfig_cache

    with libraries_from_ldconfig_cache():  # as print_pdf imports WeasyPrint: without gcc and ld runs
        from weasyprint.text.ffi import ffi, fontconfig

    config = fontconfig.FcInitLoadConfigAndFonts()
    try:
        fonts = fontconfig.FcConfigGetFonts(config, fontconfig.FcSetSystem)
        found = ffi.new("FcChar8 **")
        files = [
            os.fsdecode(ffi.string(found[0]))
            for index in range(0 if fonts == ffi.NULL else fonts.nfont)
            if fontconfig.FcPatternGetString(fonts.fonts[index], b"file", 0, found) == fontconfig.FcResultMatch
        ]
    finally:
        fontconfig.FcConfigDestroy(config)
    return [Path(file) for file in dict.fromkeys(files)]
