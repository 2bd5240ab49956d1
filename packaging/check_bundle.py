"""Check a built bundle against the .deb's Depends: every library it needs from the system is provided
by a package the .deb depends on.

    python packaging/check_bundle.py dist/ibticket

Reads DT_NEEDED of every ELF file in the bundle; a name no file in the bundle carries is looked up on this
(Debian) machine with ldconfig and dpkg-query. Exits 1 naming what is missing, so a new Qt plugin or
extension module that links a new system library fails the build instead of a trader's first start.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_manifest as manifest
import elfdeps


def system_needs(bundle: Path) -> dict[str, set[str]]:
    """Library name -> the bundle's files that need it, for names the bundle does not carry."""
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink() and elfdeps.is_elf(p)]
    carried = {p.name for p in bundle.rglob("*")}
    needs: dict[str, set[str]] = defaultdict(set)
    for path in files:
        for lib in elfdeps.needed(path):
            if lib not in carried:
                needs[lib].add(str(path.relative_to(bundle)))
    return needs


def glibc_floor(bundle: Path) -> str:
    """The newest GLIBC_x.y symbol version any ELF file in the bundle asks for: libc6's minimum version."""
    newest = (2, 17)
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink() and elfdeps.is_elf(path):
            for major, minor in re.findall(rb"GLIBC_(\d+)\.(\d+)", path.read_bytes()):
                newest = max(newest, (int(major), int(minor)))
    return f"{newest[0]}.{newest[1]}"


def ldconfig_paths() -> dict[str, str]:
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    found: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        name, _, rest = line.strip().partition(" (")
        if "x86-64" in rest or "64bit" in rest:
            found.setdefault(name, rest.rsplit("=> ", 1)[-1])
    return found


def path_variants(path: str) -> list[str]:
    # dpkg records a library under the path its package ships, /lib or /usr/lib (merged-/usr Debian has both)
    variants = [path, str(Path(path).resolve())]
    variants += [v.removeprefix("/usr") for v in variants if v.startswith("/usr/")]
    variants += ["/usr" + v for v in variants if not v.startswith("/usr/")]
    return list(dict.fromkeys(variants))


def packages_of(paths: list[str]) -> dict[str, str]:
    """Library path -> the Debian package that ships it, in one dpkg-query call."""
    variants = {path: path_variants(path) for path in paths}
    every = sorted({v for vs in variants.values() for v in vs})
    if not every:
        return {}
    # exit status 1 only says some variant is nobody's; the ones found are printed all the same
    out = subprocess.run(["dpkg-query", "-S", *every], capture_output=True, text=True).stdout
    owner = {}
    for line in out.splitlines():
        package, _, path = line.partition(": ")
        owner[path.strip()] = package.split(",")[0].split(":")[0].strip()
    return {path: next(owner[v] for v in vs if v in owner) for path, vs in variants.items()
            if any(v in owner for v in vs)}


def depends_names(depends: list[str]) -> set[str]:
    names = set()
    for item in depends:
        for alternative in item.split("|"):
            names.add(alternative.split("(")[0].strip())
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--glibc", action="store_true", help="only print the minimum glibc version it needs")
    args = parser.parse_args(argv)
    if args.glibc:
        print(glibc_floor(args.bundle))
        return 0
    needs = system_needs(args.bundle)
    paths = ldconfig_paths()
    declared = depends_names(manifest.DEB_DEPENDS)
    problems = []
    packages: dict[str, list[str]] = defaultdict(list)
    owners = packages_of([paths[lib] for lib in needs if lib in paths])
    for lib in sorted(needs):
        if lib.startswith("ld-linux"):
            packages["libc6"].append(lib)
            continue
        package = owners.get(paths.get(lib, ""))
        if package is None:
            users = ", ".join(sorted(needs[lib])[:3])
            problems.append(f"{lib} (needed by {users}) is not installed here; install its package and add it "
                            "to DEB_DEPENDS in packaging/bundle_manifest.py")
            continue
        packages[package].append(lib)
    for package in sorted(packages):
        print(f"  {package}: {' '.join(packages[package])}")
        if package not in declared:
            problems.append(f"the bundle links {' '.join(packages[package])} from {package}, which DEB_DEPENDS "
                            "in packaging/bundle_manifest.py does not name")
    for problem in problems:
        print(f"check_bundle: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
