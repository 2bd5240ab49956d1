"""Print the .deb's DEBIAN/control from pyproject.toml (the version) and bundle_manifest.py (the rest).

    python packaging/debian_control.py --glibc 2.35 --installed-size 150000
    python packaging/debian_control.py --version-only | --apt-packages
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_manifest as manifest


def project_version() -> str:
    with (manifest.ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def depends(glibc: str | None) -> str:
    items = [f"libc6 (>= {glibc})" if name == "libc6" and glibc else name for name in manifest.DEB_DEPENDS]
    return ", ".join(items)


def control(glibc: str | None, installed_size_kib: int) -> str:
    return (
        f"Package: {manifest.DEB_PACKAGE}\n"
        f"Version: {project_version()}\n"
        "Architecture: amd64\n"
        f"Maintainer: {manifest.DEB_MAINTAINER}\n"
        f"Installed-Size: {installed_size_kib}\n"
        f"Depends: {depends(glibc)}\n"
        f"Section: {manifest.DEB_SECTION}\n"
        "Priority: optional\n"
        f"Description: {manifest.DEB_DESCRIPTION}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--glibc", help="libc6's minimum version (check_bundle.py --glibc)")
    parser.add_argument("--installed-size", type=int, default=0, help="KiB, as du -sk reports")
    parser.add_argument("--version-only", action="store_true", help="print only the version")
    parser.add_argument("--apt-packages", action="store_true",
                        help="print the Depends as an apt-get install list (to build on a bare machine)")
    args = parser.parse_args(argv)
    if args.version_only:
        print(project_version())
    elif args.apt_packages:
        print(" ".join(manifest.DEB_DEPENDS))
    else:
        sys.stdout.write(control(args.glibc, args.installed_size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
