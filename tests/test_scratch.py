"""The workers' folder: made anew when another command's sweep removes it before this command holds it."""

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from briefgen import scratch


def test_a_folder_swept_away_before_it_is_held_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between making the folder and locking it, another command's sweep can find it unheld and remove it:
    the command then makes another, and holds that one."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    make, made = tempfile.mkdtemp, []

    def swept_the_first_time(prefix: str) -> str:
        folder = make(prefix=prefix)
        made.append(folder)
        if len(made) == 1:
            shutil.rmtree(folder)  # as a sweep that ran in between does
        return folder

    monkeypatch.setattr(tempfile, "mkdtemp", swept_the_first_time)
    with scratch.workers_folder() as folder:
        assert len(made) == 2 and folder == made[1]
        handle = os.open(folder, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):  # held by this command
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(handle)
    assert not Path(folder).exists()
