"""packaging/pyparts.py: the build asks the Python it builds with where its libpython and lib-dynload are, and
what Debian lacks to build with it (build.sh --deps), instead of globbing a pyenv layout."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyparts
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_PYTHON = Path("/usr/bin/python3")


def debian_parts(tmp_path: Path, **changes: object) -> pyparts.PythonParts:
    """Debian's own python3 as sysconfig describes it, with its files under tmp_path."""
    parts = pyparts.PythonParts(
        executable=Path("/usr/bin/python3.11"), version=(3, 11), shared=True,
        libpython=tmp_path / "usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
        lib_dynload=tmp_path / "usr/lib/python3.11/lib-dynload", has_venv=True,
        debian_package="python3.11-minimal",
    )
    return dataclasses.replace(parts, **changes)


def test_python_extension_modules_are_never_taken_for_system_libraries():
    # Debian keeps the standard library's extension modules under /usr/lib: the spec left them all out,
    # and the build's strip step then found no lib-dynload module to strip.
    dynload = "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so"
    assert not pyparts.from_the_system(dynload, "EXTENSION")
    assert pyparts.from_the_system("/usr/lib/x86_64-linux-gnu/libssl.so.3", "BINARY")
    assert not pyparts.from_the_system("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "BINARY")
    assert not pyparts.from_the_system(str(ROOT / "build/pkg-venv/lib/libQt6Core.so.6"), "BINARY")


def test_the_running_python_reports_its_own_files():
    parts = pyparts.this_python()
    assert parts.version == sys.version_info[:2]
    assert parts.lib_dynload.is_dir()
    if parts.shared:
        assert parts.libpython.is_file(), parts.libpython


@pytest.mark.skipif(not DEBIAN_PYTHON.exists(), reason="no Debian python3 here")
def test_debians_python3_says_where_debian_keeps_them():
    out = subprocess.run([str(DEBIAN_PYTHON), str(ROOT / "packaging/pyparts.py"), "check"], capture_output=True,
                         text=True)
    report = out.stdout + out.stderr
    assert "/usr/lib/python3" in report and "lib-dynload" in report
    if out.returncode == 0:
        assert "/usr/lib/x86_64-linux-gnu/libpython3" in out.stdout
    else:  # a stock Debian: python3 without libpython3.X
        assert "apt-get install libpython3" in out.stderr and "build.sh --deps" in out.stderr


def test_a_missing_libpython_is_named_with_its_debian_package(tmp_path):
    [problem] = pyparts.problems(debian_parts(tmp_path))
    assert "libpython3.11.so.1.0" in problem and "apt-get install libpython3.11" in problem
    assert "packaging/build.sh --deps" in problem


def test_other_pythons_that_cannot_build_are_told_why(tmp_path):
    old = pyparts.problems(debian_parts(tmp_path, version=(3, 10)))
    assert len(old) == 1 and "3.11 or newer" in old[0] and "PYTHON=" in old[0]
    static = pyparts.problems(debian_parts(tmp_path, shared=False, debian_package=None))
    assert len(static) == 1 and "--enable-shared" in static[0]
    no_venv = pyparts.problems(debian_parts(tmp_path, has_venv=False))
    assert any("apt-get install python3.11-venv" in p for p in no_venv)


def test_deps_names_what_is_missing_and_why(tmp_path, monkeypatch):
    monkeypatch.setattr(pyparts, "installed", lambda names: set(names) - {"libxcb-cursor0"})
    real_which = shutil.which
    monkeypatch.setattr(pyparts.shutil, "which", lambda cmd: None if cmd == "strip" else real_which(cmd))
    needs = pyparts.apt_needs(debian_parts(tmp_path, has_venv=False))
    names = [name for name, _ in needs]
    assert names[:2] == ["python3.11-venv", "libpython3.11"]
    assert "binutils" in names and "libxcb-cursor0" in names
    assert all(why for _, why in needs)
    libpython = tmp_path / "usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"
    libpython.parent.mkdir(parents=True)
    libpython.write_bytes(b"")
    assert "libpython3.11" not in [name for name, _ in pyparts.apt_needs(debian_parts(tmp_path))]


def test_deps_installs_nothing_for_a_python_it_did_not_install(tmp_path, monkeypatch):
    monkeypatch.setattr(pyparts, "installed", lambda names: set(names))
    monkeypatch.setattr(pyparts.shutil, "which", lambda cmd: "/usr/bin/" + cmd)
    assert pyparts.apt_needs(debian_parts(tmp_path, debian_package=None, has_venv=False)) == []


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="not Debian")
def test_installed_asks_dpkg():
    assert "dpkg" in pyparts.installed(["dpkg", "no-such-package-ibticket"])


def test_strip_lists_the_bundles_copies_of_this_pythons_files(tmp_path):
    parts = debian_parts(tmp_path)
    parts.lib_dynload.mkdir(parents=True)
    for name in ("_ssl.cpython-311-x86_64-linux-gnu.so", "_ctypes.cpython-311-x86_64-linux-gnu.so"):
        (parts.lib_dynload / name).write_bytes(b"")
    internal = tmp_path / "dist/ibticket/_internal"
    (internal / "python3.11/lib-dynload").mkdir(parents=True)
    (internal / "libpython3.11.so.1.0").write_bytes(b"")
    (internal / "python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    (internal / "libQt6Core.so.6").write_bytes(b"")  # a wheel's: never stripped
    found = pyparts.bundled_parts(parts, tmp_path / "dist/ibticket")
    assert [p.relative_to(internal) for p in found] == [
        Path("libpython3.11.so.1.0"), Path("python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so")]


def test_strip_fails_when_the_bundle_lacks_pythons_modules(tmp_path):
    parts = debian_parts(tmp_path)
    parts.lib_dynload.mkdir(parents=True)
    (parts.lib_dynload / "_ssl.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    with pytest.raises(LookupError, match=r"no libpython3\.11\.so\.1\.0"):
        pyparts.bundled_parts(parts, bundle)
    (bundle / "libpython3.11.so.1.0").write_bytes(b"")
    with pytest.raises(LookupError, match="none of Python's own modules"):
        pyparts.bundled_parts(parts, bundle)


def test_build_sh_refuses_unknown_arguments_and_a_missing_python():
    env = dict(os.environ, PYTHON="/nonexistent/python3")
    wrong = subprocess.run(["bash", str(ROOT / "packaging/build.sh"), "--nope"], capture_output=True, text=True,
                           env=env)
    assert wrong.returncode == 2 and "usage" in wrong.stderr
    missing = subprocess.run(["bash", str(ROOT / "packaging/build.sh")], capture_output=True, text=True, env=env)
    assert missing.returncode == 1 and "/nonexistent/python3 is missing" in missing.stderr
