"""Fixtures shared by briefgen's tests; the plain helpers live in helpers.py."""

import contextlib
import io
from pathlib import Path

import pytest
from helpers import (
    SAMPLE_TEXT,
    SHOWN,
    Built,
    Checked,
    build_sample,
    make_project,
    write_source,
)
from pypdf import PdfReader

from briefgen.cli import main


@pytest.fixture(scope="session")
def dask_scheduler():
    """A one-worker Dask cluster in worker processes, for the Dask tests of the whole session."""
    from distributed import LocalCluster

    # No dashboard; the scheduler's HTTP server (health and metrics routes) on a free port, not on 8787 with a
    # UserWarning whenever another cluster on the machine holds that port.
    http = {"dashboard_address": "127.0.0.1:0"}
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, scheduler_kwargs=http
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh temporary project holding a copy of the sample source."""
    return make_project(tmp_path / "project")


@pytest.fixture
def check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """check(text_or_bytes) -> Checked: write the source into a temp project and run `briefgen validate` on it.

    The command runs in this process, through the CLI's main(), as `briefgen validate brief.yaml` in the
    project: a process of its own for each of some 150 sources cost about 100 CPU-s of the suite
    (test_cli runs the command in processes of its own).
    """
    root = make_project(tmp_path / "checked", sources={})
    monkeypatch.chdir(root)

    def run(content: str | bytes) -> Checked:
        write_source(root / SHOWN, content)
        errors = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
            code = main(["validate", SHOWN])
        lines = [line for line in errors.getvalue().splitlines() if line.startswith(SHOWN)]
        return Checked(code, lines, errors.getvalue())

    return run


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The sample project built once (PDF and HTML) with the built-in templates."""
    return build_sample(tmp_path_factory.mktemp("sample-build"))


@pytest.fixture(scope="session")
def sample_html(sample_build: Built) -> str:
    return sample_build.html.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def sample_pdf(sample_build: Built) -> PdfReader:
    return PdfReader(sample_build.pdf)


@pytest.fixture(scope="session")
def sample_data() -> dict:
    import yaml

    return yaml.safe_load(SAMPLE_TEXT)
