"""The command line: parse arguments, call the pipeline, report. Nothing else happens here."""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from briefgen import __version__
from briefgen.errors import BriefgenError, Diagnostic, display_path
from briefgen.pipeline import Format, Project, format_for, read_assessment, render_brief

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run briefgen; return the process exit code."""
    args = _parser().parse_args(argv)
    project = Project(Path.cwd(), tuple(getattr(args, "allow_hosts", ())))
    try:
        return int(args.command(args, project))
    except BriefgenError as exc:
        _report(exc.diagnostics)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def validate_command(args: argparse.Namespace, project: Project) -> int:
    sources = _sources(args.paths, project)
    failed = 0
    for source in sources:
        try:
            _report(read_assessment(source).warnings)
        except BriefgenError as exc:
            _report(exc.diagnostics)
            failed += 1
    print(f"{len(sources) - failed} of {len(sources)} sources valid", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def build_command(args: argparse.Namespace, project: Project) -> int:
    from briefgen.publish import BriefResult, build

    failed = 0

    def report(result: BriefResult) -> None:
        nonlocal failed
        if result.rendered is None:
            failed += 1
            _report(result.errors)
            print(f"failed  {display_path(result.source)}", file=sys.stderr)
            return
        rendered = result.rendered
        _report(rendered.warnings)
        pages = f" ({rendered.pages} page{'' if rendered.pages == 1 else 's'})" if rendered.pages else ""
        outputs = ", ".join(display_path(args.out / f"{rendered.brief_id}.{f}") for f in sorted(rendered.outputs))
        print(f"built   {rendered.brief_id}: {outputs}{pages}")

    sources = _sources(args.paths, project)
    manifest = build(sources, project, args.out, args.formats, report)
    print(f"{len(sources) - failed} built, {failed} failed; manifest in {display_path(manifest)}")
    return EXIT_FAILED if failed else EXIT_OK


def render_command(args: argparse.Namespace, project: Project) -> int:
    from briefgen.publish import write_atomically

    output_format = format_for(args.output)
    rendered = render_brief(_existing(args.path), project, [output_format])
    _report(rendered.warnings)
    write_atomically(args.output, rendered.outputs[output_format])
    print(f"rendered {display_path(args.output)}")
    return EXIT_OK


def schema_command(args: argparse.Namespace, project: Project) -> int:
    from briefgen.models import Assessment

    schema = Assessment.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "briefgen assessment"
    print(json.dumps(schema, indent=2, ensure_ascii=False))
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefgen",
        description="Turn structured assessments in YAML into validated HTML and PDF policy briefs.",
        epilog="Run 'briefgen COMMAND --help' for a command's options. Paths are relative to the project folder "
        "(the working directory), which holds sources/ and optionally templates/.",
    )
    parser.add_argument("--version", action="version", version=f"briefgen {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check sources and report every problem with its line")
    validate.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="sources to check (default: sources/*.yaml)"
    )
    validate.set_defaults(command=validate_command)

    build = commands.add_parser("build", help="render sources into the build folder with a manifest")
    build.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="sources to build (default: sources/*.yaml)")
    build.add_argument("--out", type=Path, default=Path("build"), metavar="DIR", help="output folder (default: build)")
    build.add_argument(
        "--format",
        dest="formats",
        type=_formats,
        default=list(Format),
        metavar="LIST",
        help="comma-separated output formats: pdf, html (default: pdf,html)",
    )
    _add_network_option(build)
    build.set_defaults(command=build_command)

    render = commands.add_parser("render", help="render one source to one file; the format follows the suffix")
    render.add_argument("path", type=Path, metavar="PATH", help="the source to render")
    render.add_argument("-o", "--output", type=Path, required=True, metavar="OUTPUT", help="a .pdf or .html file")
    _add_network_option(render)
    render.set_defaults(command=render_command)

    schema = commands.add_parser("schema", help="print the JSON Schema of the source format")
    schema.set_defaults(command=schema_command)
    return parser


def _add_network_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-host",
        dest="allow_hosts",
        action="append",
        default=[],
        metavar="HOST",
        help="let templates fetch images, CSS and fonts over http(s) from HOST (repeatable; default: no network)",
    )


def _formats(text: str) -> list[Format]:
    try:
        formats = sorted({Format(part.strip().lower()) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"unknown format in {text!r}; choose from pdf, html") from None
    if not formats:
        raise argparse.ArgumentTypeError("name at least one format: pdf, html")
    return formats


def _sources(paths: Sequence[Path], project: Project) -> list[Path]:
    if paths:
        return [_existing(path) for path in paths]
    found = project.sources()
    if not found:
        raise BriefgenError([Diagnostic(display_path(project.sources_dir), "no sources (*.yaml) to process")])
    return found


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise BriefgenError([Diagnostic(display_path(path), "no such source file")])
    return path


def _report(diagnostics: Sequence[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)
