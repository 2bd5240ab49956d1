"""What goes into the desktop bundle: read by packaging/ibticket.spec and checked by tests/packaging.

Kept as plain data (no PyInstaller import) so the fast CI check can read it without building anything.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (glob relative to the checkout, folder inside the bundle's data dir). find_resources_dir() looks in
# <data dir>/resources, so the layout under resources/ is the checkout's.
DATA_FILES: list[tuple[str, str]] = [
    ("resources/*.csv", "resources"),
    ("resources/icons/*.svg", "resources/icons"),
    ("resources/icons/*.png", "resources/icons"),
]

# The window's icon sizes (packaging/render-icons.sh renders them; ibticket.gui.appicon loads them).
ICON_SIZES = (48, 128, 256)

# Distributions whose metadata the app reads at run time (the version, the About box).
METADATA = ["ibticket", "qasync", "ib_insync"]

# (name of the executable, entry script) — both share one folder and one copy of Python.
EXECUTABLES = [
    ("ibticket", "packaging/entry/start_app.py"),
    ("ibticket-gateway", "packaging/entry/start_gateway.py"),
]

# Modules the app never imports but that analysis could pull in from the build environment.
EXCLUDED_MODULES = [
    "PyQt5", "PyQt6", "PySide2", "shiboken2",
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtQuickControls2",
    "PySide6.QtQuick3D", "PySide6.QtNetwork",
    "PySide6.QtSvg", "PySide6.QtSvgWidgets", "PySide6.QtPrintSupport", "PySide6.QtSql", "PySide6.QtTest",
    "PySide6.QtDesigner", "PySide6.QtUiTools", "PySide6.QtHelp", "PySide6.QtXml", "PySide6.QtDBus",
    "PySide6.QtConcurrent",
    "tkinter", "_tkinter", "pandas", "matplotlib", "scipy", "IPython",
    "pytest", "_pytest", "hypothesis", "pytestqt", "ibapi", "ruff", "setuptools", "pip",
    # numpy comes only for eventkit's array operators; these parts of it are loaded on demand and unused
    "numpy.random", "numpy.fft", "numpy.polynomial", "numpy.f2py", "numpy.testing", "numpy.distutils",
    # parts of the standard library nothing in the app uses, some of which link more system libraries
    "readline", "curses", "_curses", "sqlite3", "_sqlite3", "dbm", "lib2to3", "pydoc_data", "ensurepip",
    "idlelib", "venv", "turtle", "turtledemo",
]

# Qt plugins the app needs, by folder: every other plugin folder and file is left out.
QT_PLUGINS: dict[str, tuple[str, ...]] = {
    # xcb for X11 and XWayland; offscreen for --smoke and headless tests.
    "platforms": ("libqxcb.so", "libqoffscreen.so"),
    "xcbglintegrations": ("libqxcb-egl-integration.so", "libqxcb-glx-integration.so"),
    # dead keys, compose sequences and input methods in the ticket's fields
    "platforminputcontexts": ("libcomposeplatforminputcontextplugin.so", "libibusplatforminputcontextplugin.so"),
    # the desktop's file dialogs and colour scheme through the portal (gtk3's would need GTK installed)
    "platformthemes": ("libqxdgdesktopportal.so",),
}

# Where the operating system's libraries live: the bundle carries none of them (except libpython, so the
# machine needs no Python); the .deb depends on the Debian packages that provide them (DEB_DEPENDS).
SYSTEM_LIB_DIRS = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/local/lib/")
BUNDLED_SYSTEM_LIBS = ("libpython",)

# Depends: of the .deb — the Debian 12 packages of every library the bundle links but does not carry
# (packaging/check_bundle.py fails the build when one is missing), plus what Qt loads at run time:
# libxcb-cursor0 and the other xcb libraries for X11, a font for any text at all.
DEB_DEPENDS = [
    # C and C++ runtimes (libc6's minimum version is worked out from the bundle by build.sh)
    "libc6", "libgcc-s1", "libstdc++6",
    # Python's own extension modules; Debian's libpython also links expat (pyexpat is built in)
    "libbz2-1.0", "libexpat1", "libffi8", "liblzma5", "libssl3", "zlib1g",
    # Qt core and GUI
    "libzstd1", "libglib2.0-0", "libdbus-1-3", "libfontconfig1", "libfreetype6", "fonts-dejavu-core",
    "libegl1", "libgl1", "libxkbcommon0",
    # Qt's X11 platform (xcb)
    "libx11-6", "libx11-xcb1", "libxkbcommon-x11-0", "libxcb1", "libxcb-cursor0", "libxcb-glx0",
    "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0", "libxcb-render0",
    "libxcb-render-util0", "libxcb-shape0", "libxcb-shm0", "libxcb-sync1", "libxcb-util1", "libxcb-xfixes0",
    "libxcb-xkb1",
]

DEB_PACKAGE = "ibticket"
DEB_SECTION = "misc"
# No mailbox stands behind this project yet; .invalid says so rather than inventing one.
DEB_MAINTAINER = "ibticket maintainers <maintainers@ibticket.invalid>"
DEB_DESCRIPTION = """Order ticket for Interactive Brokers, with an embedded paper gateway
 A desktop order ticket for Interactive Brokers: enter market, limit, stop and
 stop-limit orders from a ticket or a typed order line, and watch them work
 and fill beside your positions. With no IB account at all it trades a
 simulated paper account on an embedded gateway speaking the TWS API protocol.
 .
 The program is a self-contained bundle in /opt/ibticket (Python, Qt and the
 libraries it uses); it needs no Python on the machine."""
