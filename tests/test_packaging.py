"""Packaging: the wheel carries the built-in templates and works on its own, outside the repository."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import REPO, SAMPLE_TEXT, assert_no_traceback, child_env
from pypdf import PdfReader

import briefgen


def pip_wheel(out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *options, "-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
        env=child_env(PIP_DISABLE_PIP_VERSION_CHECK="1"),
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = pip_wheel(out, "--no-build-isolation")
    if proc.returncode != 0:  # hatchling is not installed here: let pip fetch it into an isolated build
        proc = pip_wheel(out)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [built] = out.glob("briefgen-*.whl")
    return built


@pytest.fixture(scope="module")
def unpacked(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def test_wheel_carries_the_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "briefgen/templates/common/brief.html.j2" in names
    expected = {
        "briefgen/templates/" + path.relative_to(REPO / "templates").as_posix()
        for path in (REPO / "templates").rglob("*")
        if path.is_file()
    }
    assert expected <= names, sorted(expected - names)


def test_wheel_metadata(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    assert wheel.name.startswith(f"briefgen-{briefgen.__version__}-")
    info = f"briefgen-{briefgen.__version__}.dist-info"
    metadata = archive.read(f"{info}/METADATA").decode("utf-8")
    assert f"Version: {briefgen.__version__}" in metadata
    assert "briefgen = briefgen.cli:main" in archive.read(f"{info}/entry_points.txt").decode("utf-8")
    assert not [name for name in archive.namelist() if name.startswith(("tests/", "sources/", "build/"))]


def in_wheel(unpacked: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *code.split("\0")],
        cwd=cwd,
        env=child_env(PYTHONPATH=str(unpacked)),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_unpacked_wheel_uses_its_own_templates(unpacked: Path, tmp_path: Path) -> None:
    probe = "import briefgen.theming as r; print(r.__file__); print(r.builtin_templates_dir())"
    proc = in_wheel(unpacked, f"-c\0{probe}", tmp_path)
    assert proc.returncode == 0, proc.stderr
    module, templates = proc.stdout.splitlines()
    assert Path(module).is_relative_to(unpacked)
    assert Path(templates) == unpacked / "briefgen" / "templates"


def test_the_unpacked_wheel_renders_a_pdf_outside_the_repository(unpacked: Path, tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    assert not folder.resolve().is_relative_to(REPO)
    (folder / "brief.yaml").write_text(SAMPLE_TEXT, encoding="utf-8")
    proc = in_wheel(unpacked, "-m\0briefgen\0render\0brief.yaml\0-o\0brief.pdf", folder)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    reader = PdfReader(folder / "brief.pdf")
    assert reader.metadata.title == "United on arms control, divided over itself: the CSTO after Astana"
    assert len(reader.pages) >= 2
    assert sorted(p.name for p in folder.iterdir()) == ["brief.pdf", "brief.yaml"]
