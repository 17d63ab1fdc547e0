"""The command line: parse arguments, call the pipeline, report. Nothing else happens here.

Each command imports the stages it calls, so `--help` and argument errors come back at once.
"""

import argparse
import contextlib
import json
import os
import re
import shlex
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen import __version__
from briefgen.errors import BriefgenError, Diagnostic, Severity, UsageError, display_path, system_refusal
from briefgen.formats import Format, format_for

if TYPE_CHECKING:
    from briefgen.pipeline import Project
    from briefgen.theming import Theme
    from briefgen.validate import ValidatedAssessment

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it; a signal that stops briefgen gives 128 + its number
# Plain TCP only: Dask's other protocols need security settings or libraries briefgen does not pass on.
SCHEDULER_ADDRESS = re.compile(r"(?:tcp://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]{1,5})")
SUBSETTER_WARNING = (
    "warning: HarfBuzz's subsetter (libharfbuzz-subset0) is missing; PDFs will be written about four times "
    "slower. Install it (Debian: apt-get install libharfbuzz-subset0) or run .ci/system-deps."
)


class Terminated(KeyboardInterrupt):
    """SIGTERM (as `timeout`, CI cancellations and `kill` send) or SIGHUP (the terminal closed, an SSH connection
    lost): stopped as Ctrl-C stops briefgen, its workers ended, temporary files removed, and what was finished
    recorded."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(signum)


def _stopping_signals() -> list[signal.Signals]:
    """SIGTERM, and SIGHUP unless this process was started to ignore it (`nohup briefgen build`)."""
    hangup = getattr(signal, "SIGHUP", None)
    return [signal.SIGTERM] + ([hangup] if hangup and signal.getsignal(hangup) is not signal.SIG_IGN else [])


def main(argv: Sequence[str] | None = None) -> int:
    """Run briefgen; return the process exit code."""
    args = _parser().parse_args(argv)
    if threading.current_thread() is not threading.main_thread():  # only the main thread may take signals
        return _run(args)
    previous = {number: signal.signal(number, _terminate) for number in _stopping_signals()}
    try:
        return _run(args)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command in (init_command, trace_command):
            return int(args.command(args, None))
        from briefgen.pipeline import Project

        project = Project.open(Path.cwd(), getattr(args, "theme", None), getattr(args, "allow_hosts", ()))
        return int(args.command(args, project))
    except UsageError as exc:
        _report(exc.diagnostics)
        return EXIT_USAGE
    except BriefgenError as exc:
        _report(exc.diagnostics)
        return EXIT_FAILED
    except Terminated as exc:
        with contextlib.suppress(OSError):  # a terminal that hung up takes nothing more
            print("briefgen: terminated", file=sys.stderr)
        return 128 + exc.signal_number
    except KeyboardInterrupt:
        print("briefgen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader stopped early, as `briefgen templates list | head` does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:  # the machine's refusal (a full disk, say) where no stage expected one
        print(f"briefgen: error: the system refused a file: {system_refusal(exc)}", file=sys.stderr)
        return EXIT_FAILED


def validate_command(args: argparse.Namespace, project: "Project") -> int:
    from briefgen.pipeline import read_assessment

    _report(project.config_warnings)
    sources = list(args.paths) or _sources((), project)  # a named path is read like a source: it counts below
    failed = 0
    labels_checked: dict[tuple[str, str], BriefgenError | None] = {}
    for source in sources:
        try:
            validated = read_assessment(source, project)
            _report(validated.warnings)
            _check_labels(validated, project, labels_checked)
        except BriefgenError as exc:
            _report(exc.diagnostics)
            failed += 1
    print(f"{len(sources) - failed} of {len(sources)} sources valid", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _check_labels(
    validated: "ValidatedAssessment", project: "Project", checked: dict[tuple[str, str], BriefgenError | None]
) -> None:
    """Raise BriefgenError when the theme or labels the brief renders with are broken; its diagnostics only the
    first time, as every brief of that theme and language shares them."""
    from briefgen.pipeline import check_presentation

    brief = validated.assessment.brief
    key = (brief.theme or "", brief.language or "")
    if key not in checked:
        try:
            check_presentation(project, brief.theme, brief.language)
            checked[key] = None
        except BriefgenError as exc:
            checked[key] = exc
            raise
    if checked[key] is not None:
        raise BriefgenError([])


def build_command(args: argparse.Namespace, project: "Project") -> int:
    from briefgen.batch import default_jobs, subsetter_missing
    from briefgen.console import BuildReporter
    from briefgen.publish import CatalogueFailed, Status, build

    for edition in args.editions or ():
        project.check_edition(edition)
    sources = _sources(args.paths, project)
    if Format.PDF in args.formats and subsetter_missing():
        print(SUBSETTER_WARNING, file=sys.stderr)
    editions = args.editions or [None]
    briefs = len({source.resolve() for source in sources}) * len(editions)  # a file named twice builds once
    with BuildReporter(briefs, args.quiet) as reporter:
        reporter.config_warnings(project.config_warnings)
        try:
            manifest = build(
                sources,
                project,
                args.out,
                args.formats,
                reporter,
                editions=editions,
                jobs=args.jobs or default_jobs(),
                scheduler=args.scheduler,
                force=args.force,
                on_removed=reporter.removed,
                on_outdated=reporter.outdated,
                on_changed=reporter.changed_during_build,
                on_warning=lambda warning: reporter.diagnostics((warning,)),
            )
        except CatalogueFailed as exc:  # the briefs are built and listed in the manifest; the catalogue is not
            reporter.diagnostics(exc.diagnostics)
            reporter.summary(exc.manifest, catalogue_failed=True)
            return EXIT_FAILED
        except BriefgenError as exc:  # the output folder refused, say: nothing was built
            reporter.diagnostics(exc.diagnostics)
            return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_FAILED
    reporter.summary(manifest)
    return EXIT_FAILED if reporter.counts[Status.FAILED] else EXIT_OK


def render_command(args: argparse.Namespace, project: "Project") -> int:
    from briefgen.pipeline import render_brief
    from briefgen.publish import write_atomically

    output_format = format_for(args.output)
    project.check_edition(args.edition)
    [source] = _sources([args.path], project)
    _report(project.config_warnings)
    rendered = render_brief(source, project, [output_format], args.edition)
    _report(rendered.warnings)
    write_atomically(args.output, rendered.outputs[output_format])
    print(f"rendered {display_path(args.output)}")
    return EXIT_OK


def schema_command(args: argparse.Namespace, project: "Project") -> int:
    from briefgen.models import Assessment

    schema = Assessment.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "briefgen assessment"
    print(json.dumps(schema, indent=2, ensure_ascii=False))
    return EXIT_OK


def distribute_command(args: argparse.Namespace, project: "Project") -> int:
    from briefgen.batch import default_jobs
    from briefgen.console import DistributionReporter
    from briefgen.distribute import distribute
    from briefgen.recipients import load_recipients

    with DistributionReporter(args.quiet) as reporter:
        for warning in project.config_warnings:
            reporter.warning(warning)
        sources = _sources(args.paths, project)
        recipients = load_recipients(_existing(args.recipients, "recipients"), project, reporter.warning)
        briefs = len({source.resolve() for source in sources})  # a file named twice is distributed once
        reporter.planned(briefs, len({recipient.edition for recipient in recipients}), len(recipients))
        jobs = args.jobs or default_jobs()
        manifest = distribute(
            sources,
            recipients,
            project,
            args.out,
            jobs,
            reporter.warning,
            args.scheduler,
            on_removed=reporter.removed,
            on_progress=reporter,
        )
    copies = briefs * len(recipients)
    copies_for = f"{copies} {'copy' if copies == 1 else 'copies'} for {len(recipients)} recipient"
    print(f"{copies_for}{'' if len(recipients) == 1 else 's'}; manifest in {display_path(manifest)}")
    return EXIT_OK


def trace_command(args: argparse.Namespace, project: None) -> int:
    from briefgen.trace import DEFAULT_MANIFEST, manifest_for, trace_file, trace_id

    if not args.pdfs and not args.ids:
        raise UsageError([Diagnostic("briefgen trace", "give a PDF copy, or a copy id with --id")])
    password = _pdf_password(args.password) if args.pdfs else None
    lookups = [
        (f"{display_path(pdf)}: ", lambda pdf=pdf: trace_file(pdf, args.manifest or manifest_for(pdf), password))
        for pdf in args.pdfs
    ]
    lookups += [
        ("", lambda copy_id=copy_id: trace_id(copy_id, args.manifest or DEFAULT_MANIFEST)) for copy_id in args.ids
    ]
    failed = False
    for prefix, lookup in lookups:  # each on its own: one unreadable file does not hide the others
        try:
            print(f"{prefix}{lookup()}")
        except BriefgenError as exc:
            _report(exc.diagnostics)
            failed = True
    return EXIT_FAILED if failed else EXIT_OK


def _pdf_password(given: str | None) -> str | None:
    """The password for protected copies: --password's, typed at a prompt (or read as a line of standard input)
    for '-', or else the environment's; None when there is none."""
    from briefgen.trace import PASSWORD_VARIABLE

    if given != "-":
        return given if given is not None else os.environ.get(PASSWORD_VARIABLE)
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Password of the PDF: ")
    return sys.stdin.readline().removesuffix("\n").removesuffix("\r")


def init_command(args: argparse.Namespace, project: None) -> int:
    from briefgen.scaffold import init_project

    for path in init_project(args.folder):
        print(f"created {display_path(path)}{'/' if path.is_dir() else ''}")
    print(f"now: cd {shlex.quote(str(display_path(args.folder)))} && briefgen build")  # pasted into a shell as it is
    return EXIT_OK


def new_command(args: argparse.Namespace, project: "Project") -> int:
    from briefgen.scaffold import new_source

    print(f"created {display_path(new_source(project.root, args.id))}")
    return EXIT_OK


def templates_list_command(args: argparse.Namespace, project: "Project") -> int:
    from briefgen.theming import available_themes, budget_of, template_names, template_search_path

    theme = project.theme or project.config.theme
    search_path = template_search_path(project.root, theme)
    print(f"theme: {theme}")
    print("search path (first match wins):")
    for number, folder in enumerate(search_path, start=1):
        print(f"  {number}. {display_path(folder)}")
    print("templates (winner, then what it hides):")
    for name, folders in template_names(search_path).items():
        hidden = f"  (hides {', '.join(str(search_path.index(f) + 1) for f in folders[1:])})" if folders[1:] else ""
        print(f"  {search_path.index(folders[0]) + 1}. {name}{hidden}")
    print("themes:")
    themes = available_themes(project.root)
    broken: dict[str, Diagnostic] = {}
    for name, found in sorted(themes.items()):
        notes = [f"extends {found.extends}"] if found.extends else []
        if problem := _broken_theme(project.root, name, themes):
            broken[str(problem)] = problem
            notes.append("broken: see below")
        if budget := budget_of(themes, name):
            notes.append(f"at most {budget} page{'' if budget == 1 else 's'}")
        aside = f" ({'; '.join(notes)})" if notes else ""
        print(f"  {name}{aside}: {found.description}")
    _report(list(broken.values()))
    return EXIT_FAILED if broken else EXIT_OK


def _broken_theme(root: Path, name: str, themes: "Mapping[str, Theme]") -> Diagnostic | None:
    """What is wrong with a theme's chain (a loop, a missing parent), if anything."""
    from briefgen.theming import theme_chain

    try:
        theme_chain(root, name, themes)
    except BriefgenError as exc:
        return exc.diagnostics[0]
    return None


def templates_eject_command(args: argparse.Namespace, project: "Project") -> int:
    from briefgen.scaffold import eject_template

    target = eject_template(project.root, project.theme or project.config.theme, args.name, args.force)
    print(f"copied to {display_path(target)}; edit it there, it now wins over the built-in one")
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
    build.add_argument(
        "--edition",
        dest="editions",
        type=_names,
        default=None,
        metavar="LIST",
        help="build these editions (comma-separated, e.g. public,restricted) instead of the full brief",
    )
    _add_jobs_option(build)
    _add_scheduler_option(build)
    build.add_argument("--force", action="store_true", help="render every brief, even those that are up to date")
    _add_quiet_option(build)
    _add_network_option(build)
    _add_theme_option(build)
    build.set_defaults(command=build_command)

    render = commands.add_parser("render", help="render one source to one file; the format follows the suffix")
    render.add_argument("path", type=Path, metavar="PATH", help="the source to render")
    render.add_argument("-o", "--output", type=Path, required=True, metavar="OUTPUT", help="a .pdf or .html file")
    render.add_argument("--edition", metavar="NAME", help="render this edition instead of the full brief")
    _add_network_option(render)
    _add_theme_option(render)
    render.set_defaults(command=render_command)

    schema = commands.add_parser("schema", help="print the JSON Schema of the source format")
    schema.set_defaults(command=schema_command)

    distribute = commands.add_parser("distribute", help="stamp a personalised, traceable copy for each recipient")
    distribute.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="sources to stamp copies of (default: sources/*.yaml)"
    )
    distribute.add_argument(
        "--recipients",
        type=Path,
        required=True,
        metavar="FILE",
        help="CSV or YAML with name, organisation, email and optionally edition (default: public)",
    )
    distribute.add_argument(
        "--out", type=Path, default=Path("dist"), metavar="DIR", help="output folder (default: dist)"
    )
    _add_jobs_option(distribute)
    _add_scheduler_option(distribute)
    _add_quiet_option(distribute)
    _add_theme_option(distribute)
    distribute.set_defaults(command=distribute_command)

    trace = commands.add_parser("trace", help="tell whom a personalised copy was made for")
    trace.add_argument("pdfs", nargs="*", type=Path, metavar="PDF", help="copies made by 'briefgen distribute'")
    trace.add_argument(
        "--id",
        dest="ids",
        action="append",
        default=[],
        metavar="COPY_ID",
        help="a copy id printed on its pages (repeatable)",
    )
    trace.add_argument(
        "--manifest",
        type=Path,
        metavar="FILE",
        help="the distribution's manifest (default: dist/manifest.json, or else for a PDF the manifest.json"
        " of the distribution it lies in)",
    )
    trace.add_argument(
        "--password",
        metavar="PASSWORD",
        help="the password of a copy protected by one; '-' to type it at a prompt (or read it from standard input),"
        " which keeps it out of the process list, as BRIEFGEN_PDF_PASSWORD in the environment does",
    )
    trace.set_defaults(command=trace_command)

    init = commands.add_parser("init", help="create a new project that builds at once")
    init.add_argument("folder", type=Path, metavar="DIR", help="the folder to create the project in")
    init.set_defaults(command=init_command)

    new = commands.add_parser("new", help="add a starter source, sources/ID.yaml")
    new.add_argument("id", metavar="ID", help="the brief's id: lower-case letters, digits and hyphens")
    new.set_defaults(command=new_command)

    templates = commands.add_parser("templates", help="list or copy the templates a brief is rendered with")
    template_commands = templates.add_subparsers(title="commands", required=True, metavar="COMMAND")
    listing = template_commands.add_parser("list", help="show the search path and which file wins for each name")
    _add_theme_option(listing, help="list the templates of this theme (default: the config's)")
    listing.set_defaults(command=templates_list_command)
    eject = template_commands.add_parser("eject", help="copy a built-in template into templates/ to edit it")
    eject.add_argument(
        "name", metavar="NAME", help="a name from 'briefgen templates list', e.g. partials/masthead.html.j2"
    )
    eject.add_argument("--force", action="store_true", help="replace the project's copy if there is one")
    _add_theme_option(eject, help="copy the template this theme would use (default: the config's)")
    eject.set_defaults(command=templates_eject_command)
    return parser


def _add_jobs_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs", "-j", type=_positive, default=0, metavar="N", help="worker processes (default: cores)"
    )


def _add_quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="print only errors and the last line")


def _add_scheduler_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        type=_scheduler_address,
        help="render on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs briefgen[distributed])",
    )


def _scheduler_address(text: str) -> str:
    """A Dask scheduler's address over TCP: [tcp://]HOST:PORT, the port from 1 to 65535."""
    address = SCHEDULER_ADDRESS.fullmatch(text)
    if address and 1 <= int(address["port"]) <= 65535:
        return text
    message = f"expected a Dask scheduler's address, tcp://HOST:PORT (tcp://127.0.0.1:8786, say), not {text!r}"
    if address:
        message += "; a port is a number from 1 to 65535"
    elif SCHEDULER_ADDRESS.fullmatch(f"{text}:8786"):
        message += "; add the scheduler's port, 8786 unless it was started with another"
    raise argparse.ArgumentTypeError(message)


def _add_theme_option(
    parser: argparse.ArgumentParser, help: str = "render with this theme, whatever the sources and config say"
) -> None:
    parser.add_argument("--theme", metavar="NAME", help=help)


def _add_network_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-host",
        dest="allow_hosts",
        action="append",
        default=[],
        metavar="HOST",
        help="let templates fetch images, CSS and fonts over http(s) from HOST (repeatable; default: no network)",
    )


def _names(text: str) -> list[str]:
    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise argparse.ArgumentTypeError("name at least one edition")
    return names


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def _formats(text: str) -> list[Format]:
    try:
        formats = sorted({Format(part.strip().lower()) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"unknown format in {text!r}; choose from pdf, html") from None
    if not formats:
        raise argparse.ArgumentTypeError("name at least one format: pdf, html")
    return formats


def _sources(paths: Sequence[Path], project: "Project") -> list[Path]:
    if paths:
        return [_existing(path, meant=project.sources_dir / f"{path}.yaml") for path in paths]
    found = project.sources()
    for unread in sorted(project.sources_dir.glob("*.yml")):
        message = f"not read: sources end in .yaml; rename it {unread.stem}.yaml"
        _report_one(Diagnostic(display_path(unread), message, severity=Severity.WARNING))
    if not found:
        message = "no sources (*.yaml) to process"
        if not project.sources_dir.is_dir():
            message += "; run briefgen in a project folder (one holding sources/), or make one with 'briefgen init DIR'"
        raise BriefgenError([Diagnostic(display_path(project.sources_dir), message)])
    return found


def _existing(path: Path, kind: str = "source", meant: Path | None = None) -> Path:
    """path, when it is a file; else an error, suggesting the file meant (a brief's source for its id)."""
    if not path.is_file():
        message = "not a regular file" if path.exists() else f"no such {kind} file"
        if not path.exists() and meant is not None and meant.is_file():
            message += f"; did you mean {display_path(meant)}?"
        raise BriefgenError([Diagnostic(display_path(path), message)])
    return path


def _report(diagnostics: Sequence[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        _report_one(diagnostic)


def _report_one(diagnostic: Diagnostic) -> None:
    print(diagnostic, file=sys.stderr)
