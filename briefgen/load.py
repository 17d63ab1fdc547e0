"""Stage 1, load: read a YAML source into plain data, remembering where every value stood.

The result keeps, for each path into the data (mapping keys and list indices),
the line and column of its value and of its key, and whether YAML gave a plain
scalar a type the author may not have meant (``NO`` as false, ``1.10`` as 1.1).
Duplicate keys, anchors and aliases, and non-standard tags are errors. A value YAML
types but cannot make, such as 2018-11-31 as a date, is kept as an Unreadable, so that validation
reports it with the file's other problems; the loader reports it only when another problem stops it.

A source is read with libyaml's parser when PyYAML has it (about eight times faster); a source it
finds anything wrong with is read again with PyYAML's own parser, whose diagnostics are the ones
reported, so the two parsers never give the same mistake different messages.
"""

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

if yaml.__with_libyaml__:
    from yaml.cyaml import CParser

from briefgen.errors import BriefgenError, Diagnostic, display_path

DataPath = tuple[str | int, ...]

MAX_SOURCE_BYTES = 1_000_000
MAX_NESTING = 32
# YAML counts these as line breaks and editors do not, so positions would drift after them.
ODD_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
STANDARD_SCALAR_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}

# What libyaml and PyYAML read apart: tabs (PyYAML refuses them in places libyaml takes them), a byte
# order mark after the first character, what PyYAML's reader refuses as unprintable, and a block scalar's
# header with a comment not set off by a space (`|#`), which libyaml takes and PyYAML refuses.
_READ_APART = re.compile("[\t\ufeff]|[|>][-+0-9]*#|" + yaml.reader.Reader.NON_PRINTABLE.pattern)
STANDARD_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
IMPLICIT_KINDS = {
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:null": "empty (null)",
}


@dataclass(frozen=True)
class Span:
    """Where a value stands in its file (1-based), and how YAML typed it."""

    line: int
    column: int
    key_line: int | None = None
    key_column: int | None = None
    raw: str | None = None
    implicit: str | None = None


@dataclass(frozen=True)
class Unreadable:
    """A value YAML typed but could not make, in place of that value: no model takes it, so validating it fails."""

    text: str
    kind: str
    reason: str

    @property
    def message(self) -> str:
        return f"YAML cannot read {self.text!r} as {self.kind}: {self.reason}"


@dataclass(frozen=True)
class SourceDocument:
    """A loaded source: its data and the position of every value in it."""

    path: Path
    data: Any
    spans: dict[DataPath, Span] = field(repr=False)

    @property
    def brief_id(self) -> str:
        return brief_id(self.path)

    def span(self, data_path: DataPath) -> Span:
        """The span of a value, or of its nearest enclosing value when it is absent."""
        for end in range(len(data_path), -1, -1):
            if (found := self.spans.get(data_path[:end])) is not None:
                return found
        return Span(1, 1)


def brief_id(path: Path) -> str:
    """A brief's id, which names its outputs: its source's file name without the suffix."""
    return path.name.removesuffix(".yaml").removesuffix(".yml")


class _Problem(Exception):
    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


class _Strict(yaml.composer.Composer):
    """Composing that refuses anchors, aliases and deep nesting: briefs never need them."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Problem(event.start_mark, f"aliases (*{event.anchor}) are not allowed; write the value out")
        if getattr(event, "anchor", None):
            raise _Problem(event.start_mark, f"anchors (&{event.anchor}) are not allowed; write the value out")
        if self.depth >= MAX_NESTING:
            raise _Problem(event.start_mark, f"nesting deeper than {MAX_NESTING} levels")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _ForPyYAML(Exception):
    """A text that libyaml would read, but place differently than PyYAML does: PyYAML reads it."""


class _StrictLoader(_Strict, yaml.SafeLoader):
    """PyYAML's safe loader in Python, strict: the reference, and the one whose diagnostics are reported."""


if yaml.__with_libyaml__:

    class _FastStrictLoader(_Strict, CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """libyaml's parser under the same strict composing in Python, which keeps every node's position."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

        def compose_scalar_node(self, anchor: str | None) -> yaml.ScalarNode:
            event = self.peek_event()
            if event.value == "" and not event.style:
                raise _ForPyYAML("libyaml places an empty value where the next token starts, not after its key")
            return super().compose_scalar_node(anchor)


def load_source(path: Path, *, allow_empty: bool = False) -> SourceDocument:
    """Read and parse one YAML file; raise BriefgenError with every problem found.

    An empty file is an error unless allow_empty, when its data is None.
    """
    return parse_source(read_source_text(path), path, allow_empty=allow_empty)


def read_source_text(path: Path) -> str:
    """The text of a YAML file; BriefgenError when it is not a readable regular file of UTF-8 within the limit."""
    shown = display_path(path)
    try:
        if not path.is_file():
            raise BriefgenError([Diagnostic(shown, "not a regular file" if path.exists() else "no such source file")])
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise BriefgenError([Diagnostic(shown, f"source is {size:,} bytes; the limit is {MAX_SOURCE_BYTES:,}")])
        with path.open("rb") as stream:
            raw = stream.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise BriefgenError([Diagnostic(shown, f"cannot read source: {exc.strerror}")]) from None
    if len(raw) > MAX_SOURCE_BYTES:
        raise BriefgenError([Diagnostic(shown, f"source is over the limit of {MAX_SOURCE_BYTES:,} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BriefgenError([Diagnostic(shown, "source is not valid UTF-8", line, 1)]) from None
    return text


def parse_source(text: str, path: Path, *, allow_empty: bool = False) -> SourceDocument:
    """Parse YAML text into a SourceDocument."""
    if yaml.__with_libyaml__ and not _READ_APART.search(text.removeprefix("\ufeff")):
        with contextlib.suppress(BriefgenError, _ForPyYAML):
            return _parse(text, path, _FastStrictLoader, allow_empty)
    return _parse(text, path, _StrictLoader, allow_empty)


def _parse(text: str, path: Path, loader_class: type[_Strict], allow_empty: bool) -> SourceDocument:
    shown = display_path(path)
    if (odd := ODD_LINE_BREAKS.search(text)) is not None:
        line = text.count("\n", 0, odd.start()) + 1
        column = odd.start() - (text.rfind("\n", 0, odd.start()) + 1) + 1
        message = f"the line separator U+{ord(odd.group()):04X} is not allowed; use an ordinary line break"
        raise BriefgenError([Diagnostic(shown, message, line, column)])
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        message = f"control character U+{exc.character:04X} is not allowed in YAML"
        raise BriefgenError([Diagnostic(shown, message, line, column)]) from None
    try:
        root = loader.get_single_node()
    except _Problem as exc:
        raise BriefgenError([_at(shown, exc.mark, exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        raise BriefgenError([_syntax_diagnostic(shown, exc, text)]) from None
    finally:
        loader.dispose()
    if root is None:
        if allow_empty:
            return SourceDocument(path, None, {})
        raise BriefgenError([Diagnostic(shown, "source is empty", 1, 1)])
    builder = _Builder(shown, loader)
    data = builder.build(root, ())
    if builder.problems:
        everything = [*builder.problems, *builder.unreadable]
        raise BriefgenError(sorted(everything, key=lambda d: (d.line or 0, d.column or 0)))
    return SourceDocument(path, data, builder.spans)


class _Builder:
    """Turns a YAML node tree into Python data, recording spans and collecting problems."""

    def __init__(self, shown: str, loader: yaml.constructor.SafeConstructor) -> None:
        self.shown = shown
        self.loader = loader
        self.spans: dict[DataPath, Span] = {}
        self.problems: list[Diagnostic] = []
        self.unreadable: list[Diagnostic] = []  # reported by validation, unless a problem stops the load

    def build(self, node: yaml.Node, data_path: DataPath, key_mark: yaml.Mark | None = None) -> Any:
        mark = node.start_mark
        key_line, key_column = (key_mark.line + 1, key_mark.column + 1) if key_mark else (None, None)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in STANDARD_COLLECTION_TAGS:
            self.problems.append(_at(self.shown, mark, f"the tag {node.tag} is not allowed; remove it"))
            return None
        if isinstance(node, yaml.MappingNode):
            self.spans[data_path] = Span(mark.line + 1, mark.column + 1, key_line, key_column)
            return dict(self._mapping_items(node, data_path))
        if isinstance(node, yaml.SequenceNode):
            self.spans[data_path] = Span(mark.line + 1, mark.column + 1, key_line, key_column)
            return [self.build(item, (*data_path, index)) for index, item in enumerate(node.value)]
        if node.tag not in STANDARD_SCALAR_TAGS:
            self.problems.append(_at(self.shown, mark, f"the tag {node.tag} is not allowed; remove it"))
            return None
        implicit = IMPLICIT_KINDS.get(node.tag) if not node.style else None  # plain: None in PyYAML, "" in libyaml
        self.spans[data_path] = Span(mark.line + 1, mark.column + 1, key_line, key_column, node.value, implicit)
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            self.problems.append(_syntax_diagnostic(self.shown, exc))
        except (ValueError, OverflowError) as exc:
            unreadable = Unreadable(node.value, implicit or "a value", str(exc))
            self.unreadable.append(_at(self.shown, mark, unreadable.message))
            return unreadable
        return None

    def _mapping_items(self, node: yaml.MappingNode, data_path: DataPath) -> Iterator[tuple[str, Any]]:
        seen: dict[str, yaml.Mark] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(_at(self.shown, key_node.start_mark, "keys must be plain names"))
                continue
            key = key_node.value
            if key in seen:
                first = seen[key].line + 1
                self.problems.append(
                    _at(self.shown, key_node.start_mark, f"duplicate key '{key}' (first given on line {first})")
                )
                continue
            seen[key] = key_node.start_mark
            yield key, self.build(value_node, (*data_path, key), key_node.start_mark)


def _at(shown: str, mark: yaml.Mark, message: str) -> Diagnostic:
    return Diagnostic(shown, message, mark.line + 1, mark.column + 1)


def _syntax_diagnostic(shown: str, exc: yaml.MarkedYAMLError, text: str = "") -> Diagnostic:
    """A YAML syntax error in plain words where its usual causes are known, else in PyYAML's.

    text, the source's, tells a colon inside a value from a key indented too deep.
    """
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    context = exc.context or ""
    since = f" on line {exc.context_mark.line + 1}" if exc.context_mark else ""
    if "'\\t'" in problem:
        problem = "a tab character cannot indent YAML; indent with spaces"
    elif problem == "mapping values are not allowed here" and mark is not None:
        line = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
        if re.search(r":\s", line[: mark.column]):
            problem = "': ' inside a value starts a key; if it is part of the text, put the whole value in quotes"
        else:  # the key of the line, not its colon
            mark = yaml.Mark(mark.name, mark.index, mark.line, len(line) - len(line.lstrip(" ")), None, None)
            problem = "this key is indented deeper than the key above it; indent it like the keys beside it"
    elif "quoted scalar" in context and "end of stream" in problem and exc.context_mark is not None:
        mark, problem = exc.context_mark, "this quoted value is never closed; add the closing quote"
    elif "another document" in problem:
        problem = "a source holds one YAML document; remove this '---' line and what follows, or merge it in"
    elif problem.startswith("expected <block end>") and "block" in context:
        problem = f"this line is indented unlike the lines above it (in the block begun{since}); line it up with them"
    elif "flow sequence" in context or "flow mapping" in context:
        kind, closing = ("[ list", "]") if "sequence" in context else ("{ mapping", "}")
        problem = f"the {kind} begun{since} is not closed; add '{closing}', or a ',' between its items"
    elif context:
        problem = f"{problem} ({context}{since})"
    if mark is None:
        return Diagnostic(shown, f"YAML syntax error: {problem}")
    return _at(shown, mark, f"YAML syntax error: {problem}")
