"""`python -m ibticket.gui`: the desktop app, as the `ibticket` command."""

import sys

from .app import main

sys.exit(main())
