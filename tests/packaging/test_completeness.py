"""Fast checks that the desktop bundle's inputs are complete: the spec's data files, the icons, the desktop
entry, the AppStream metadata, the version in one place, and the wheel's commands and data files.

The full build (packaging/build.sh) and the fresh-Debian install (packaging/test-install.sh) are the slow
half; these catch a forgotten file or a second version number in seconds.
"""

from __future__ import annotations

import ast
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from configparser import ConfigParser
from pathlib import Path

import bundle_manifest as manifest
import debian_control
import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RESOURCES = ROOT / "resources"


def resource_files() -> list[Path]:
    return sorted(p for p in RESOURCES.rglob("*") if p.is_file())


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_every_data_pattern_matches_and_every_resource_goes_into_the_bundle():
    covered: set[Path] = set()
    for pattern, dest in manifest.DATA_FILES:
        matches = sorted(ROOT.glob(pattern))
        assert matches, f"bundle_manifest.DATA_FILES: nothing matches {pattern}"
        for path in matches:
            # find_resources_dir() looks in <data dir>/resources: the layout must be the checkout's
            assert dest == str(path.parent.relative_to(ROOT)), f"{pattern} would land in {dest}"
        covered.update(matches)
    missing = [str(p.relative_to(ROOT)) for p in resource_files() if p not in covered]
    assert not missing, f"resources not in the bundle (add them to DATA_FILES): {missing}"


def test_every_resource_is_in_the_wheel_data_files():
    data_files = PYPROJECT["tool"]["setuptools"]["data-files"]
    covered = {path for dest, patterns in data_files.items() for pattern in patterns for path in ROOT.glob(pattern)}
    missing = [str(p.relative_to(ROOT)) for p in resource_files() if p not in covered]
    assert not missing, f"resources a wheel would not install (pyproject data-files): {missing}"
    for dest, patterns in data_files.items():
        for pattern in patterns:
            assert dest == "share/ibticket/" + str(Path(pattern).parent), (dest, pattern)


def test_the_bundle_has_the_same_commands_as_the_wheel_and_its_entry_scripts_exist():
    scripts = PYPROJECT["project"]["scripts"]
    assert [name for name, _ in manifest.EXECUTABLES] == list(scripts)
    for name, script in manifest.EXECUTABLES:
        tree = ast.parse((ROOT / script).read_text(encoding="utf-8"))
        module, function = scripts[name].split(":")
        imports = [(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
        assert (module, function) in imports, f"{script} does not run {scripts[name]}"
        # a script named like the package would shadow it inside the bundle
        assert Path(script).stem != "ibticket"


def test_the_spec_parses_and_reads_the_manifest():
    spec = (ROOT / "packaging" / "ibticket.spec").read_text(encoding="utf-8")
    ast.parse(spec)
    for name in ("DATA_FILES", "EXCLUDED_MODULES", "QT_PLUGINS", "EXECUTABLES", "METADATA"):
        assert f"manifest.{name}" in spec, f"ibticket.spec ignores bundle_manifest.{name}"


def test_lean_bundle_leaves_out_what_the_app_does_not_use():
    excluded = set(manifest.EXCLUDED_MODULES)
    assert {"PyQt5", "PyQt6", "PySide2", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtDesigner", "pytest"} <= excluded
    assert set(manifest.QT_PLUGINS["platforms"]) == {"libqxcb.so", "libqoffscreen.so"}
    app_imports = set()
    for path in (ROOT / "ibticket").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                app_imports.add(node.module)
            elif isinstance(node, ast.Import):
                app_imports.update(alias.name for alias in node.names)
    used = sorted(m for m in app_imports if any(m == x or m.startswith(x + ".") for x in excluded))
    assert not used, f"the app imports modules the bundle leaves out: {used}"


def test_icons_at_every_size():
    svg = ET.parse(RESOURCES / "icons" / "ibticket.svg").getroot()
    assert svg.tag.endswith("svg") and svg.get("viewBox") == "0 0 256 256"
    from ibticket.gui.appicon import ICON_SIZES

    assert tuple(manifest.ICON_SIZES) == ICON_SIZES == (48, 128, 256)
    for size in ICON_SIZES:
        assert png_size(RESOURCES / "icons" / f"ibticket-{size}.png") == (size, size)


def test_desktop_entry():
    path = ROOT / "packaging" / "ibticket.desktop"
    entry = ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(path, encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == "ibticket" and desktop["Icon"] == "ibticket" and desktop["Type"] == "Application"
    # the window reports the same name (app.py: setDesktopFileName) so the desktop matches window and entry
    assert 'setDesktopFileName("ibticket")' in (ROOT / "ibticket" / "gui" / "app.py").read_text(encoding="utf-8")
    assert desktop["StartupWMClass"] == "ibticket"
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    result = subprocess.run([validator, str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_appstream_metainfo(tmp_path):
    template = (ROOT / "packaging" / "ibticket.metainfo.xml").read_text(encoding="utf-8")
    assert "@VERSION@" in template, "the metainfo must take its release from pyproject.toml, not name one"
    filled = template.replace("@VERSION@", debian_control.project_version()).replace("@DATE@", "2025-01-02")
    root = ET.fromstring(filled)
    assert root.findtext("launchable") == "ibticket.desktop"
    path = tmp_path / "ibticket.metainfo.xml"
    path.write_text(filled, encoding="utf-8")
    tool = shutil.which("appstreamcli")
    if tool is None:
        pytest.skip("appstreamcli is not installed (apt-get install appstream)")
    result = subprocess.run([tool, "validate", "--no-net", "--override=cid-desktopapp-is-not-rdns=info", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_version_lives_only_in_pyproject():
    import ibticket

    version = PYPROJECT["project"]["version"]
    assert ibticket.__version__ == version == debian_control.project_version()
    assert "version" not in PYPROJECT["project"].get("dynamic", [])
    literal = f'"{version}"'
    for path in [*(ROOT / "ibticket").rglob("*.py"), *(ROOT / "packaging").iterdir()]:
        if path.is_file():
            assert literal not in path.read_text(encoding="utf-8", errors="replace"), f"{path} names the version"


def test_the_control_file_names_the_libraries_qt_needs():
    control = debian_control.control("2.35", 1000)
    fields = dict(line.split(": ", 1) for line in control.splitlines() if ": " in line and not line.startswith(" "))
    assert fields["Version"] == PYPROJECT["project"]["version"]
    depends = {d.split(" (")[0] for d in fields["Depends"].split(", ")}
    assert {"libegl1", "libgl1", "libxkbcommon-x11-0", "libxcb-cursor0", "libfontconfig1", "libdbus-1-3",
            "fonts-dejavu-core", "libc6"} <= depends
    assert "libc6 (>= 2.35)" in fields["Depends"]
    assert "python3" not in " ".join(depends)


def test_the_wheel_has_both_commands_and_the_data_files(tmp_path):
    pytest.importorskip("setuptools")
    # Build from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "ibticket", source / "ibticket", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "resources", source / "resources")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=source, capture_output=True, text=True, timeout=50,
    )
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("ibticket-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "ibticket = ibticket.gui.app:main" in entry_points
    assert "ibticket-gateway = ibticket.gateway.cli:main" in entry_points
    data = {n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n}
    for path in resource_files():
        assert f"share/ibticket/{path.relative_to(ROOT)}" in data
