"""What the bundle relies on at run time and at build time: the resources lookup inside a PyInstaller
bundle, the window icon, the version outside a checkout, and the ELF/Debian dependency check."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import check_bundle
import elfdeps
import pytest

from ibticket.gateway.universe import STOCKS_FILE, find_resources_dir

ROOT = Path(__file__).resolve().parents[2]


def qt_core_library() -> Path:
    import PySide6

    return Path(PySide6.__file__).parent / "Qt" / "lib" / "libQt6Core.so.6"


def test_resources_are_found_in_a_pyinstaller_bundle(tmp_path, monkeypatch):
    monkeypatch.delenv("IBTICKET_RESOURCES", raising=False)
    bundled = tmp_path / "_internal" / "resources"
    bundled.mkdir(parents=True)
    shutil.copy(ROOT / "resources" / STOCKS_FILE, bundled / STOCKS_FILE)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_internal"), raising=False)
    assert find_resources_dir() == bundled
    # $IBTICKET_RESOURCES still wins over the bundle's own copy
    monkeypatch.setenv("IBTICKET_RESOURCES", str(ROOT / "resources"))
    assert find_resources_dir() == ROOT / "resources"


def test_window_icon_has_every_size(qapp):
    from ibticket.gui.appicon import ICON_SIZES, app_icon

    icon = app_icon()
    assert not icon.isNull()
    assert sorted(size.width() for size in icon.availableSizes()) == list(ICON_SIZES)


def test_window_icon_missing_is_not_fatal(qapp, tmp_path, monkeypatch, caplog):
    from ibticket.gui.appicon import app_icon

    shutil.copy(ROOT / "resources" / STOCKS_FILE, tmp_path / STOCKS_FILE)
    monkeypatch.setenv("IBTICKET_RESOURCES", str(tmp_path))
    assert app_icon().isNull()
    assert "no application icon" in caplog.text


def test_version_outside_a_checkout_comes_from_the_installed_metadata(tmp_path):
    from importlib import metadata

    # as in a wheel or the bundle: no pyproject.toml beside the package
    package = tmp_path / "site" / "ibticket"
    package.mkdir(parents=True)
    shutil.copy(ROOT / "ibticket" / "_version.py", package / "_version.py")
    spec = importlib.util.spec_from_file_location("copied_version", package / "_version.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.read_version() == metadata.version("ibticket")
    # someone else's pyproject.toml above site-packages is not ours
    (tmp_path / "site" / "pyproject.toml").write_text('[project]\nname = "other"\nversion = "9.9"\n')
    assert module.read_version() == metadata.version("ibticket")


def test_elf_needed_matches_readelf():
    library = qt_core_library()
    names = elfdeps.needed(library)
    assert "libc.so.6" in names and any(n.startswith("libicuuc") for n in names)
    readelf = shutil.which("readelf")
    if readelf:
        out = subprocess.run([readelf, "-d", str(library)], capture_output=True, text=True, check=True).stdout
        assert names == [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]
    with pytest.raises(ValueError, match="not an ELF"):
        elfdeps.needed(ROOT / "pyproject.toml")


def small_bundle(tmp_path: Path) -> Path:
    """A bundle of one real Qt library, with the ICU libraries it links carried beside it."""
    bundle = tmp_path / "bundle"
    bundle.mkdir(parents=True)
    library = qt_core_library()
    shutil.copy(library, bundle / library.name)
    for icu in library.parent.glob("libicu*"):
        (bundle / icu.name).symlink_to(icu)
    return bundle


def test_system_needs_are_what_the_bundle_does_not_carry(tmp_path):
    needs = check_bundle.system_needs(small_bundle(tmp_path))
    assert "libc.so.6" in needs and "libglib-2.0.so.0" in needs
    assert not [name for name in needs if name.startswith("libicu")]
    assert needs["libc.so.6"] == {"libQt6Core.so.6"}
    major, minor = check_bundle.glibc_floor(small_bundle(tmp_path / "again")).split(".")
    assert int(major) == 2 and int(minor) >= 17


@pytest.mark.skipif(not (shutil.which("dpkg-query") and shutil.which("ldconfig")), reason="not a Debian system")
def test_a_library_from_a_package_depends_does_not_name_fails_the_check(tmp_path, monkeypatch, capsys):
    bundle = small_bundle(tmp_path)
    assert check_bundle.main([str(bundle)]) == 0, capsys.readouterr().err
    assert "libglib2.0-0: libglib-2.0.so.0" in capsys.readouterr().out
    monkeypatch.setattr(check_bundle.manifest, "DEB_DEPENDS",
                        [d for d in check_bundle.manifest.DEB_DEPENDS if d != "libglib2.0-0"])
    assert check_bundle.main([str(bundle)]) == 1
    assert "from libglib2.0-0, which DEB_DEPENDS" in capsys.readouterr().err
