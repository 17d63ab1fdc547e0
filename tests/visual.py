"""Page 1 of the sample brief as a greyscale picture, compared with a stored reference.

When the design changes on purpose, refresh the reference and commit it:

    .venv/bin/python tests/visual.py --refresh
"""

import subprocess
import sys
import tempfile
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent / "reference" / "sample-page-1.pgm"
DPI = 40


def page_one(pdf: Path) -> tuple[int, int, bytes]:
    """Page 1 of a PDF rendered by pdftoppm as 8-bit greyscale: width, height, pixels."""
    with tempfile.TemporaryDirectory() as folder:
        stem = Path(folder) / "page"
        subprocess.run(
            ["pdftoppm", "-gray", "-r", str(DPI), "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
            check=True,
        )
        return read_pgm(stem.with_suffix(".pgm").read_bytes())


def read_pgm(data: bytes) -> tuple[int, int, bytes]:
    magic, width, height, maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5" and maxval == b"255", "not an 8-bit binary PGM"
    return int(width), int(height), pixels[: int(width) * int(height)]


def write_pgm(path: Path, width: int, height: int, pixels: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"P5\n%d %d\n255\n" % (width, height) + pixels)


def difference(a: bytes, b: bytes) -> tuple[float, float]:
    """Mean absolute difference (0-255) and the share of pixels that differ by more than 48."""
    deltas = [abs(x - y) for x, y in zip(a, b, strict=True)]
    return sum(deltas) / len(deltas), sum(delta > 48 for delta in deltas) / len(deltas)


def refresh() -> None:
    """Build the sample into a temporary folder and store its page 1 as the reference."""
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "briefgen", "render", "sources/csto-astana-2018.yaml", "-o", f"{folder}/s.pdf"],
            cwd=repo,
            check=True,
        )
        write_pgm(REFERENCE, *page_one(Path(folder) / "s.pdf"))
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--refresh"]:
        sys.exit(__doc__)
    refresh()
