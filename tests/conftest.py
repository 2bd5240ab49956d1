"""Test-wide setup: Qt must never try to open a display, and no test may hang CI.

The default per-test timeout (60 s, pytest-timeout) is set in pyproject.toml's [tool.pytest.ini_options].
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Before any QApplication exists: with no display and no platform plugin choice Qt aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# A broker made without a client id chooses and saves this installation's id: never in the user's settings.
os.environ["IBTICKET_CONFIG_DIR"] = tempfile.mkdtemp(prefix="ibticket-test-config-")
atexit.register(shutil.rmtree, os.environ["IBTICKET_CONFIG_DIR"], True)
