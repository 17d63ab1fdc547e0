"""Finding WeasyPrint's native libraries (Pango, HarfBuzz, fontconfig) without a compiler run per name.

WeasyPrint opens each library under several names, one per platform, and cffi hands every name it
cannot open as it is to ctypes.util.find_library. On Linux that runs `ldconfig -p` and, for a name the
cache does not hold, gcc and ld: about sixty processes and 0.2 s of every start-up that prints a PDF.
While WeasyPrint is imported, find_library answers from one reading of `ldconfig -p`, as its own first
step does; a name the cache does not hold finds nothing, and WeasyPrint goes on to its next name (the
sonames it also tries are opened directly, through the usual loader paths, as before).
"""

import contextlib
import ctypes.util
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator

LDCONFIG = "/sbin/ldconfig"
# ldconfig's name for the ABI of this interpreter's machine, as ctypes.util spells it; others are "libc6".
_ABI_OF_MACHINE = {
    "x86_64-64": "libc6,x86-64",
    "ppc64-64": "libc6,64bit",
    "sparc64-64": "libc6,64bit",
    "s390x-64": "libc6,64bit",
    "ia64-64": "libc6,IA-64",
}


@contextlib.contextmanager
def libraries_from_ldconfig_cache() -> Iterator[None]:
    """Within the block, ctypes.util.find_library reads `ldconfig -p` once and answers from it.

    Elsewhere than on Linux with glibc's ldconfig, find_library is left as it is.
    """
    cache = _ldconfig_cache() if sys.platform.startswith("linux") else None
    if cache is None:
        yield
        return
    original = ctypes.util.find_library
    ctypes.util.find_library = _finder(cache)
    try:
        yield
    finally:
        ctypes.util.find_library = original


def _ldconfig_cache() -> str | None:
    """What `ldconfig -p` prints, or None when it cannot run."""
    try:
        done = subprocess.run(
            [LDCONFIG, "-p"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env={"LC_ALL": "C", "LANG": "C"},
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return os.fsdecode(done.stdout)


def _finder(cache: str) -> Callable[[str], str | None]:
    machine = f"{os.uname().machine}-{8 * struct.calcsize('l')}"
    abi = _ABI_OF_MACHINE.get(machine, "libc6")

    def find_library(name: str) -> str | None:
        found = re.search(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({re.escape(abi)}", cache)
        return found.group(1) if found else None

    return find_library
