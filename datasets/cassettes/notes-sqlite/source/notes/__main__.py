"""``python -m notes``: the same as the entry script."""

import sys

from notes.main import main

sys.exit(main())
