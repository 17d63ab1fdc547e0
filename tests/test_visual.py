"""The sample's first page looks as designed: compared with a stored reference within a tolerance.

Refresh the reference after an intended design change with `.venv/bin/python tests/visual.py --refresh`.
"""

from helpers import Built
from visual import REFERENCE, difference, page_one, read_pgm

MAX_MEAN_DIFFERENCE = 2.0
MAX_CHANGED_SHARE = 0.01


def test_page_one_matches_the_reference(sample_build: Built) -> None:
    width, height, pixels = page_one(sample_build.pdf)
    ref_width, ref_height, reference = read_pgm(REFERENCE.read_bytes())
    assert (width, height) == (ref_width, ref_height)
    mean, changed = difference(pixels, reference)
    assert mean <= MAX_MEAN_DIFFERENCE, f"page 1 differs from the reference by {mean:.2f} on average"
    assert changed <= MAX_CHANGED_SHARE, f"{changed:.2%} of page 1's pixels changed visibly"


def test_the_comparison_sees_a_changed_page(sample_build: Built) -> None:
    width, height, pixels = page_one(sample_build.pdf)
    blanked = bytes(
        255 if row < height // 3 else value
        for row in range(height)
        for value in pixels[row * width : (row + 1) * width]
    )
    _, changed = difference(blanked, pixels)
    assert changed > MAX_CHANGED_SHARE
