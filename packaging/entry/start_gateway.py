"""Entry point of the bundle's ``ibticket-gateway`` executable (the same as the console script)."""

import sys

from ibticket.gateway.cli import main

sys.exit(main())
