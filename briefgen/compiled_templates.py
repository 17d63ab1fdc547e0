"""briefgen's own templates, compiled once and kept in the package's __pycache__/ beside Python's compiled
modules, so that a new process (a command, a build worker) loads their code instead of compiling them
again: about 0.1 s of every process's first brief.

Only the built-in templates are kept. Compiled code runs outside Jinja2's sandbox, so it is read only from
where briefgen's own code lives: a project's files (its templates, or a cache a project could carry) are
never loaded as code. Jinja2 checks each file against the template's current text and compiles again when
it has changed. The cache is only ever a shortcut: a folder that cannot be written to, or a file that
cannot be read back, costs a compilation, never a brief.
"""

import hashlib
import sys
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from briefgen import __version__
from briefgen.theming import PACKAGE_DIR

KEPT_IN = PACKAGE_DIR / "__pycache__" / "templates"  # beside Python's compiled modules of briefgen

# What the compiled code depends on beside the template's own text: Jinja2's code generator, briefgen's
# environment (its options, filters and globals), and Python's bytecode.
_COMPILED_BY = f"jinja2 {jinja2.__version__}, briefgen {__version__}, python {sys.version_info[:2]}"


class CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja2's file cache of compiled templates, in folder, for the templates inside trusted alone."""

    def __init__(self, folder: Path, trusted: Path) -> None:
        super().__init__(str(folder), "%s.jinja")
        self.trusted = trusted.resolve()

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None, source: str) -> Bucket:
        checksum = self.get_source_checksum(source)
        if filename is None or not Path(filename).resolve().is_relative_to(self.trusted):
            return Bucket(environment, "", checksum)  # no key: never read nor kept
        bucket = Bucket(environment, self.key(environment, name, filename), checksum)
        self.load_bytecode(bucket)
        return bucket

    def set_bucket(self, bucket: Bucket) -> None:
        if bucket.key:
            super().set_bucket(bucket)

    def key(self, environment: jinja2.Environment, name: str, filename: str) -> str:
        """The name of the file a template's code is kept in: what compiled it, under which settings, from where."""
        return hashlib.sha256(f"{_COMPILED_BY}|{_settings(environment)}|{name}|{filename}".encode()).hexdigest()

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # unreadable or damaged: compiled again, and written anew
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:  # a read-only installation, a full disk: the next process compiles again
            pass


def _settings(environment: jinja2.Environment) -> str:
    """The environment's settings that shape the code a template compiles to (the syntax, whitespace control,
    escaping, finalize, extensions), so that code compiled under other settings is never loaded."""
    escaping = environment.autoescape if isinstance(environment.autoescape, bool) else "by template"
    return repr(
        (
            type(environment).__qualname__,
            environment.block_start_string,
            environment.block_end_string,
            environment.variable_start_string,
            environment.variable_end_string,
            environment.comment_start_string,
            environment.comment_end_string,
            environment.line_statement_prefix,
            environment.line_comment_prefix,
            environment.trim_blocks,
            environment.lstrip_blocks,
            environment.newline_sequence,
            environment.keep_trailing_newline,
            escaping,
            environment.finalize is None,
            environment.optimized,
            environment.is_async,
            sorted(environment.extensions),
        )
    )
