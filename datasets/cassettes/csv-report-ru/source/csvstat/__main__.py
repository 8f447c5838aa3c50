"""``python -m csvstat``: the same as the entry script."""

import sys

from csvstat.main import main

sys.exit(main())
