"""Test-wide setup: Qt must never try to open a display, and no test may hang CI.

The default per-test timeout (60 s, pytest-timeout) is set in pyproject.toml's [tool.pytest.ini_options].
"""

from __future__ import annotations

import os

# Before any QApplication exists: with no display and no platform plugin choice Qt aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
