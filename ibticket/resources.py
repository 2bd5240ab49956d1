"""Where the data files are (resources/: the instrument list, the icons), for the window and the gateway alike:
$IBTICKET_RESOURCES, else the desktop bundle's, else the source checkout, else the wheel's data-files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The file that marks a resources folder as complete enough to use.
STOCKS_FILE = "stocks.csv"


def find_resources_dir() -> Path:
    candidates: list[Path] = []
    env = os.environ.get("IBTICKET_RESOURCES")
    if env:
        candidates.append(Path(env))
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        # PyInstaller's one-folder bundle: packaging/ibticket.spec puts resources/ in its data folder.
        candidates.append(Path(bundle) / "resources")
    candidates.append(Path(__file__).resolve().parents[1] / "resources")
    candidates.append(Path(sys.prefix) / "share" / "ibticket" / "resources")
    for candidate in candidates:
        if (candidate / STOCKS_FILE).is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"{STOCKS_FILE} not found; looked in: {tried}")


def icons_dir() -> Path:
    return find_resources_dir() / "icons"
