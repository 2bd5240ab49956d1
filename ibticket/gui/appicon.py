"""The application's icon, from resources/icons (ibticket.resources finds it)."""

from __future__ import annotations

import logging

from PySide6.QtGui import QIcon

from ..resources import icons_dir

log = logging.getLogger(__name__)

# Rendered from ibticket.svg by packaging/render-icons.sh; Qt scales the nearest one for other sizes.
ICON_SIZES = (48, 128, 256)


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
