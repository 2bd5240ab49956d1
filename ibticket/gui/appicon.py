"""The application's icon, from resources/icons (found the way the gateway finds its data files)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QIcon

log = logging.getLogger(__name__)

# Rendered from ibticket.svg by packaging/render-icons.sh; Qt scales the nearest one for other sizes.
ICON_SIZES = (48, 128, 256)


def icons_dir() -> Path:
    from ..gateway.universe import find_resources_dir

    return find_resources_dir() / "icons"


def app_icon() -> QIcon:
    """The window icon; an empty icon (Qt's default) rather than a failed start when the files are missing."""
    icon = QIcon()
    try:
        folder = icons_dir()
    except FileNotFoundError as exc:
        log.warning("no application icon: %s", exc)
        return icon
    for size in ICON_SIZES:
        path = folder / f"ibticket-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    if icon.isNull():
        log.warning("no application icon in %s", folder)
    return icon
