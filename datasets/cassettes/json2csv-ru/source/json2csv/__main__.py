"""``python -m json2csv``: the same as the entry script."""

import sys

from json2csv.main import main

sys.exit(main())
