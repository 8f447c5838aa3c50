"""``python -m csv2xlsx``: the same as the entry script."""

import sys

from csv2xlsx.main import main

sys.exit(main())
