"""ibticket: open the trading window (the same as the ``ibticket`` command).

With no options it trades a simulated paper account on the embedded gateway; ``--tws`` connects to a
local TWS paper session; ``--help`` lists the rest.
"""

from __future__ import annotations

import sys

from ibticket.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
