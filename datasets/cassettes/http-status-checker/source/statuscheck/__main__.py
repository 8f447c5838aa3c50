"""``python -m statuscheck``: the same as the entry script."""

import sys

from statuscheck.main import main

sys.exit(main())
