"""Test-wide setup: Qt must never try to open a display, and no test may hang CI.

The default per-test timeout (60 s, pytest-timeout) is set in pyproject.toml's [tool.pytest.ini_options].
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any QApplication exists: with no display and no platform plugin choice Qt aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# A broker made without a client id chooses and saves this installation's id: never in the user's settings.
os.environ["IBTICKET_CONFIG_DIR"] = tempfile.mkdtemp(prefix="ibticket-test-config-")
atexit.register(shutil.rmtree, os.environ["IBTICKET_CONFIG_DIR"], True)


@pytest.fixture
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """An existing folder nobody can create files in, root included (root ignores a chmod: it gets the
    immutable attribute instead, and the test is skipped where chattr is refused)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    (folder / "client-31.lock").write_text("")  # an earlier run's lock file: it can still be opened
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)],
                                                          capture_output=True).returncode != 0:
        pytest.skip("running as root without chattr +i: no way to make a folder unwritable for root")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=False)
