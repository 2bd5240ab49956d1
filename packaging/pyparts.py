"""The Python the bundle is built from, asked of that Python's own sysconfig: where its shared libpython and
its lib-dynload modules are, and what a Debian/Ubuntu machine lacks to build with it.

    $PYTHON packaging/pyparts.py check          say which Python builds the bundle; exit 1 naming what is missing
    $PYTHON packaging/pyparts.py apt            the apt packages the build needs and this machine lacks, with why
    $PYTHON packaging/pyparts.py strip BUNDLE   the bundle's copies of this Python's libpython and lib-dynload

Run with the interpreter the build uses (PYTHON= in packaging/build.sh): Debian's /usr/bin/python3 keeps
libpython in /usr/lib/<multiarch> (package libpython3.X) and its modules in /usr/lib/python3.X/lib-dynload, a
pyenv or python.org build keeps both under its own prefix. Standard library only, so it runs before any venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_manifest as manifest

MIN_VERSION = (3, 11)

# Each command build.sh runs and the Debian package that has it; the validators are used when present,
# and --deps installs them so a build checks what it ships.
TOOLS: list[tuple[str, str, str]] = [
    ("strip", "binutils", "strips debug symbols from Python's libraries in the bundle"),
    ("dpkg-deb", "dpkg", "packs the .deb"),
    ("dpkg-query", "dpkg", "names the Debian package of each library the bundle links"),
    ("ldconfig", "libc-bin", "finds the system libraries the bundle links"),
    ("desktop-file-validate", "desktop-file-utils", "validates the menu entry"),
    ("appstreamcli", "appstream", "validates the AppStream metadata"),
]


@dataclass(frozen=True)
class PythonParts:
    executable: Path
    version: tuple[int, int]
    shared: bool  # built with --enable-shared: a bundle needs libpython as a file of its own
    libpython: Path  # where sysconfig says the shared library is; it may not be installed
    lib_dynload: Path
    has_venv: bool  # Debian leaves ensurepip out of python3.X until python3.X-venv is installed
    debian_package: str | None  # the package of the executable when Debian installed it

    @property
    def dotted(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def debian_owner(path: Path) -> str | None:
    if shutil.which("dpkg-query") is None:
        return None
    for candidate in dict.fromkeys([str(path), str(path.resolve())]):
        found = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        if found.returncode == 0 and found.stdout:
            return found.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def this_python() -> PythonParts:
    executable = Path(sys.executable)
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    soname = sysconfig.get_config_var("INSTSONAME") or sysconfig.get_config_var("LDLIBRARY") or ""
    dynload = sysconfig.get_config_var("DESTSHARED") or os.path.join(sysconfig.get_path("platstdlib"), "lib-dynload")
    try:
        import ensurepip  # noqa: F401
        has_venv = True
    except ImportError:
        has_venv = False
    return PythonParts(
        executable=executable,
        version=(sys.version_info[0], sys.version_info[1]),
        shared=bool(sysconfig.get_config_var("Py_ENABLE_SHARED")),
        libpython=Path(libdir, soname),
        lib_dynload=Path(dynload),
        has_venv=has_venv,
        debian_package=debian_owner(executable),
    )


def problems(parts: PythonParts) -> list[str]:
    """What keeps this Python from building the bundle, each said with its remedy."""
    found = []
    fix = "run packaging/build.sh --deps, or"
    if parts.version < MIN_VERSION:
        found.append(f"{parts.executable} is Python {parts.dotted}; the build needs 3.11 or newer "
                     "(choose one with PYTHON=/path/to/python3.11 packaging/build.sh)")
        return found
    if not parts.has_venv:
        found.append(f"{parts.executable} cannot make a venv ({fix} apt-get install python{parts.dotted}-venv)")
    if not parts.shared:
        found.append(f"{parts.executable} was built without a shared libpython, which PyInstaller needs "
                     "(pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install ...), or choose another "
                     "Python with PYTHON=")
    elif not parts.libpython.is_file():
        remedy = f"{fix} apt-get install libpython{parts.dotted}" if parts.debian_package else \
            "reinstall this Python with its shared library, or choose another with PYTHON="
        found.append(f"PyInstaller needs {parts.libpython.name}, which {parts.executable} does not have at "
                     f"{parts.libpython} ({remedy})")
    return found


def installed(packages: list[str]) -> set[str]:
    """The Debian packages of this list that are installed, in one dpkg-query call."""
    if not packages:
        return set()
    # exit status 1 only says some package is unknown; the known ones are printed all the same
    out = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Package}\n", *packages],
                         capture_output=True, text=True).stdout
    return {line[3:].split(":")[0] for line in out.splitlines() if line.startswith("ii ")}


def apt_needs(parts: PythonParts) -> list[tuple[str, str]]:
    """(package, why) for everything the build needs from Debian and this machine lacks, in install order."""
    wanted: list[tuple[str, str]] = []
    if parts.debian_package and parts.version >= MIN_VERSION:
        if not parts.has_venv:
            wanted.append((f"python{parts.dotted}-venv", f"the build's venv ({parts.executable} -m venv)"))
        if parts.shared and not parts.libpython.is_file():
            wanted.append((f"libpython{parts.dotted}", f"{parts.libpython.name}, which the bundle carries"))
    for command, package, why in TOOLS:
        if shutil.which(command) is None:
            wanted.append((package, f"{command}: {why}"))
    libraries = [name.split("(")[0].strip() for name in manifest.DEB_DEPENDS]
    have = installed(libraries)
    wanted += [(name, "the bundle needs it at run time (the .deb depends on it; the smoke test runs the bundle)")
               for name in libraries if name not in have]
    return list({name: (name, why) for name, why in wanted}.values())


def bundled_parts(parts: PythonParts, bundle: Path) -> list[Path]:
    """The bundle's copies of this Python's libpython and lib-dynload modules (raises if either is absent)."""
    modules = {entry.name for entry in parts.lib_dynload.iterdir()} if parts.lib_dynload.is_dir() else set()
    libpython = [p for p in bundle.rglob(parts.libpython.name) if p.is_file() and not p.is_symlink()]
    if not libpython:
        raise LookupError(f"the bundle {bundle} carries no {parts.libpython.name}")
    dynload = sorted(p for p in bundle.rglob("*") if p.name in modules and p.is_file() and not p.is_symlink())
    if not dynload:
        raise LookupError(f"the bundle {bundle} carries none of Python's own modules from {parts.lib_dynload} "
                          "(ibticket.spec took them for system libraries?)")
    return libpython + dynload


def from_the_system(src: str, kind: str) -> bool:
    """Whether a binary PyInstaller collected is the operating system's, left to the .deb's Depends.

    Extension modules are Python's, wherever that Python keeps them: Debian's are in
    /usr/lib/python3.X/lib-dynload, which a path test alone would take for the system's."""
    if kind == "EXTENSION":
        return False
    real = os.path.realpath(src)
    return real.startswith(manifest.SYSTEM_LIB_DIRS) and not os.path.basename(real).startswith(
        manifest.BUNDLED_SYSTEM_LIBS)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("check", "apt", "strip") or (argv[0] == "strip") != (len(argv) == 2):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    parts = this_python()
    if argv[0] == "check":
        found = problems(parts)
        for problem in found:
            print(f"build.sh: {problem}", file=sys.stderr)
        if not found:
            print(f"python {sys.version.split()[0]}: {parts.executable} (libpython {parts.libpython}, "
                  f"modules {parts.lib_dynload})")
        return 1 if found else 0
    if argv[0] == "apt":
        if shutil.which("dpkg-query") is None:
            print("build.sh --deps: this is not Debian or Ubuntu (no dpkg); install the build's needs by hand: "
                  "python3 >= 3.11 with venv and a shared libpython, binutils, and the libraries of "
                  "packaging/bundle_manifest.py DEB_DEPENDS", file=sys.stderr)
            return 1
        for name, why in apt_needs(parts):
            print(f"{name}\t{why}")
        return 0
    try:
        for path in bundled_parts(parts, Path(argv[1])):
            print(path)
    except LookupError as error:
        print(f"build.sh: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
