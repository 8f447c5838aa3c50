"""``python -m textstats``: the same as the entry script."""

import sys

from textstats.main import main

sys.exit(main())
