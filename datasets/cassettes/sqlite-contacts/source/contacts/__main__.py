"""``python -m contacts``: the same as the entry script."""

import sys

from contacts.main import main

sys.exit(main())
