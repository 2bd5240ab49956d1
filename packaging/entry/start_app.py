"""Entry point of the bundle's ``ibticket`` executable (named unlike the package, which it would shadow)."""

import sys

from ibticket.gui.app import main

sys.exit(main())
