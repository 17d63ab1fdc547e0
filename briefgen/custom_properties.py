"""Custom properties that only `:root` sets, written into the print stylesheets before WeasyPrint parses them.

WeasyPrint keeps a declaration that uses var() unparsed, and for every element the declaration applies to
it looks the custom property up, substitutes its value and parses the result. The built-in stylesheets take
their colours and fonts from custom properties (the house style sets them from briefgen.yaml), and that
work was about 3% of a render of the sample. A custom property that only plain `:root` rules set has one
value on every element, so each var() of it can be replaced by that value once, in the stylesheet's text.

What is folded, and what is left for WeasyPrint, so that every render is the one WeasyPrint would make:

- A property is folded when every rule that sets it, in every stylesheet of the brief, is a top-level
  `:root` rule, without `!important`; the last one wins, as in the cascade (the sheets share one origin
  and `:root` has one specificity). Set anywhere else (another selector, an at-rule, a nested rule),
  its uses stay as they are. WeasyPrint takes `--a-b` and `--a_b` for one property, and so does this.
- Only when the HTML brings no stylesheet or style attribute of its own (which could set one) and no
  stylesheet imports another.
- A var() is replaced when it stands on its own in the value of a declaration of a style rule (top-level,
  nested, or in `@media`): not in another function, not in @page, @font-face or other at-rules. The
  value must not run into the text around the var() (`var(--n)px`). The substituted declaration must be
  one WeasyPrint accepts when nothing var() is left in it: one that is invalid stays a var(), invalid
  at computed-value time as before, rather than dropped when parsed.
- Values with url() are left: a relative URL would resolve against another stylesheet.

Lines do not move. A value longer or shorter than its var() moves what follows on the same line, and
`Folded.original_column` gives back the column a warning of WeasyPrint's means.
"""

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import tinycss2
from tinycss2.ast import Declaration, FunctionBlock, Node, QualifiedRule
from weasyprint.css.tokens import InvalidValues, remove_whitespace
from weasyprint.css.validation.expanders import EXPANDERS
from weasyprint.css.validation.properties import validate_non_shorthand

STYLES_IN_HTML = re.compile(r"<(?:style|link)\b", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
BEFORE_VAR = frozenset(" \t\n:,(")  # what may come before a folded var() without joining its value
AFTER_VAR = frozenset(" \t\n;,)!}")  # and after it
CSS_WIDE_KEYWORDS = frozenset({"initial", "inherit", "unset", "revert", "revert-layer"})
VAR, URL = frozenset({"var"}), frozenset({"url", "src"})
# What a folded value may hold: no function (math, url(), var() but at the top) and no block.
PLAIN_TOKENS = frozenset({"ident", "string", "number", "dimension", "percentage", "hash", "literal", "whitespace"})


@dataclass(frozen=True)
class Folded:
    """A stylesheet's text with var()s folded, and where on their lines the text moved."""

    text: str
    shifts: tuple[tuple[int, int, int], ...] = ()  # (line, column just after a value in text, characters moved)

    def original_column(self, line: int, column: int) -> int:
        """The column in the stylesheet as written of what is at line:column of the folded text."""
        return column - sum(moved for at_line, after, moved in self.shifts if at_line == line and after <= column)


@dataclass(frozen=True)
class _Setting:
    key: str  # WeasyPrint's: the name with "-" as "_"
    value: tuple[Node, ...] | None  # None: set where folding cannot follow


@dataclass(frozen=True)
class _Use:
    key: str
    start: int  # offsets of "var(...)" in the sheet's text
    end: int


@dataclass(frozen=True)
class _Declaration:
    name: str
    value: tuple[Node, ...]
    uses: tuple[_Use, ...]


@dataclass(frozen=True)
class _Sheet:
    text: str  # as tinycss2 reads it: its line ends made "\n"
    settings: tuple[_Setting, ...]
    declarations: tuple[_Declaration, ...]
    imports: bool


def folded(html: str, css_texts: Sequence[str]) -> list[Folded]:
    """Each stylesheet with the var()s of the custom properties that only `:root` sets replaced by their values."""
    sheets = [_read(css) for css in css_texts]
    if any(sheet.imports for sheet in sheets) or _html_may_set_properties(html):
        return [Folded(css) for css in css_texts]
    values = _values(setting for sheet in sheets for setting in sheet.settings)
    return [_folded(sheet, values) for sheet in sheets]


def _html_may_set_properties(html: str) -> bool:
    return bool(STYLES_IN_HTML.search(html)) or any("--" in found for found in STYLE_ATTRIBUTE.findall(html))


def _values(settings: Iterable[_Setting]) -> dict[str, tuple[Node, ...]]:
    """The value of each custom property that can be folded, its var()s of others resolved."""
    last: dict[str, tuple[Node, ...] | None] = {}
    unfoldable: set[str] = set()
    for setting in settings:
        if setting.value is None:
            unfoldable.add(setting.key)
        last[setting.key] = setting.value
    values: dict[str, tuple[Node, ...]] = {}

    def resolved(key: str, seen: frozenset[str]) -> tuple[Node, ...] | None:
        if key in values:
            return values[key]
        value = last.get(key)
        if key in unfoldable or key in seen or value is None:
            return None
        tokens: list[Node] = []
        for token in value:
            if _is_var(token):
                inner = resolved(_key(token), seen | {key})
                if inner is None:
                    return None
                tokens.extend(inner)
            elif token.type in PLAIN_TOKENS:
                tokens.append(token)
            else:
                return None
        if not _stripped(tokens):
            return None
        values[key] = tuple(tokens)
        return values[key]

    for key in last:
        resolved(key, frozenset())
    return values


def _folded(sheet: _Sheet, values: dict[str, tuple[Node, ...]]) -> Folded:
    wanted = {use.key for declaration in sheet.declarations for use in declaration.uses} & values.keys()
    if not wanted:
        return Folded(sheet.text)
    return _folded_text(sheet.text, tuple(sorted((key, _serialized(values[key])) for key in wanted)))


@functools.lru_cache(maxsize=64)
def _folded_text(text: str, values: tuple[tuple[str, str], ...]) -> Folded:
    sheet, texts = _read(text), dict(values)
    replacements = [
        (use, texts[use.key])
        for declaration in sheet.declarations
        if _accepted(declaration, texts)
        for use in declaration.uses
        if use.key in texts
    ]
    pieces, shifts, done, moved_on_line = [], [], 0, (0, 0)
    for use, value in sorted(replacements, key=lambda replacement: replacement[0].start):
        pieces += [text[done : use.start], value]
        line = text.count("\n", 0, use.start) + 1
        moved = moved_on_line[1] if moved_on_line[0] == line else 0
        column = use.start - text.rfind("\n", 0, use.start) + moved + len(value)  # 1-based, in the folded text
        shifts.append((line, column, len(value) - (use.end - use.start)))
        moved_on_line = (line, moved + shifts[-1][2])
        done = use.end
    pieces.append(text[done:])
    return Folded("".join(pieces), tuple(shifts))


def _accepted(declaration: _Declaration, texts: dict[str, str]) -> bool:
    """Whether the declaration, with the values in texts substituted, is one WeasyPrint takes as written:
    still a var() (then substituted per element as before), or valid."""
    tokens: list[Node] = []
    for token in declaration.value:
        if _is_var(token) and _key(token) in texts:
            tokens += tinycss2.parse_component_value_list(texts[_key(token)], skip_comments=True)
        else:
            tokens.append(token)
    tokens = list(remove_whitespace(tokens))
    if any(_holds(token, VAR) for token in tokens):
        return True
    if any(_holds(token, URL) for token in tokens):
        return False  # not checked without the sheet's URL: left as it is
    validator = EXPANDERS.get(declaration.name, validate_non_shorthand)
    try:
        return bool(tokens) and bool(list(validator(tokens, declaration.name, None)))
    except InvalidValues:
        return False
    except Exception:  # a validator that breaks on the value (`grid: /` raises IndexError) is WeasyPrint's to meet
        return False


@functools.lru_cache(maxsize=64)
def _read(css: str) -> _Sheet:
    """What a stylesheet sets and where it uses var(), as WeasyPrint reads it."""
    text = css.replace("\0", "\ufffd").replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    line_starts = [0] + [found.end() for found in re.finditer("\n", text)]
    settings: list[_Setting] = []
    declarations: list[_Declaration] = []
    imports = False

    def offset(node: Node) -> int:
        return line_starts[node.source_line - 1] + node.source_column - 1

    def read_style_rule(rule: QualifiedRule, top_level: bool) -> None:
        is_root = top_level and tinycss2.serialize(remove_whitespace(rule.prelude)) == ":root"
        for item in tinycss2.parse_blocks_contents(rule.content, skip_comments=True):
            if item.type == "qualified-rule":
                read_style_rule(item, top_level=False)
            elif item.type == "declaration":
                read_declaration(item, is_root)

    def read_declaration(declaration: Declaration, is_root: bool) -> None:
        if declaration.name.startswith("--"):
            foldable = is_root and not declaration.important and not _is_keyword(declaration.value)
            key = declaration.name.replace("-", "_")
            settings.append(_Setting(key, _stripped(declaration.value) if foldable else None))
            return
        uses = []
        for token in declaration.value:
            if _is_var(token):
                start = offset(token)
                end = _end_of_function(text, start)
                if end is not None and _stands_apart(text, start, end):
                    uses.append(_Use(_key(token), start, end))
        if uses:
            declarations.append(_Declaration(declaration.lower_name, tuple(declaration.value), tuple(uses)))

    def read_rules(rules: Iterable[Node], top_level: bool) -> None:
        nonlocal imports
        for rule in rules:
            if rule.type == "qualified-rule":
                read_style_rule(rule, top_level)
            elif rule.type == "at-rule" and rule.content is not None:
                if rule.lower_at_keyword == "media":
                    read_rules(tinycss2.parse_rule_list(rule.content, skip_comments=True), top_level=False)
                else:
                    settings.extend(_Setting(key, None) for key in _keys_set_in(rule.content))
            elif rule.type == "at-rule" and rule.lower_at_keyword == "import":
                imports = True

    read_rules(tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True), top_level=True)
    return _Sheet(text, tuple(settings), tuple(declarations), imports)


def _keys_set_in(content: Sequence[Node]) -> set[str]:
    """The keys of the custom properties an at-rule's block sets, in its nested rules too."""
    keys = set()
    for item in tinycss2.parse_blocks_contents(content, skip_comments=True):
        if item.type == "declaration" and item.name.startswith("--"):
            keys.add(item.name.replace("-", "_"))
        elif item.type in ("at-rule", "qualified-rule") and item.content is not None:
            keys |= _keys_set_in(item.content)
    return keys


def _is_var(token: Node) -> bool:
    if not isinstance(token, FunctionBlock) or token.lower_name != "var":
        return False
    arguments = list(remove_whitespace(token.arguments))
    return bool(arguments) and arguments[0].type == "ident" and arguments[0].value.startswith("--")


def _key(var: FunctionBlock) -> str:
    return remove_whitespace(var.arguments)[0].value.replace("-", "_")


def _holds(token: Node, functions: frozenset[str]) -> bool:
    """Whether the token is, or holds, a call of one of the functions (a url token counts as url())."""
    called = token.lower_name if isinstance(token, FunctionBlock) else "url" if token.type == "url" else None
    if called in functions:
        return True
    inner = getattr(token, "content", None) or getattr(token, "arguments", None) or ()
    return any(_holds(item, functions) for item in inner)


def _is_keyword(value: Sequence[Node]) -> bool:
    tokens = remove_whitespace(value)
    return len(tokens) == 1 and tokens[0].type == "ident" and tokens[0].lower_value in CSS_WIDE_KEYWORDS


def _stripped(tokens: Sequence[Node]) -> tuple[Node, ...]:
    """The tokens without the whitespace at either end."""
    kept = list(tokens)
    while kept and kept[0].type == "whitespace":
        kept.pop(0)
    while kept and kept[-1].type == "whitespace":
        kept.pop()
    return tuple(kept)


def _serialized(tokens: Sequence[Node]) -> str:
    """A value as text that reads back as the same tokens, on one line."""
    return re.sub(r"\s+", " ", tinycss2.serialize(tokens)).strip() if tokens else ""


def _stands_apart(text: str, start: int, end: int) -> bool:
    """Whether a var() at text[start:end] is set apart from what is around it, on one line."""
    return (
        (start == 0 or text[start - 1] in BEFORE_VAR)
        and (end == len(text) or text[end] in AFTER_VAR)
        and "\n" not in text[start:end]
    )


def _end_of_function(text: str, start: int) -> int | None:
    """The offset just after the ")" closing the function whose name starts at start, or None if unclosed."""
    position, depth = text.index("(", start) + 1, 1
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char in "\"'":
            closing = re.compile(rf"(?:\\.|[^\\{char}\n])*{char}", re.S).match(text, position + 1)
            if closing is None:
                return None
            position = closing.end()
            continue
        if text.startswith("/*", position):
            closing_comment = text.find("*/", position + 2)
            if closing_comment < 0:
                return None
            position = closing_comment + 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return position + 1
        position += 1
    return None
