"""``python -m briefgen``: the same as the ``briefgen`` command."""

import sys

from briefgen.cli import main

sys.exit(main())
