#!/usr/bin/env bash
# Build the desktop app from a clean checkout:
#   dist/ibticket/                     the PyInstaller one-folder bundle (runs with no Python on the machine)
#   dist/ibticket_<version>_amd64.deb  that bundle in /opt/ibticket, /usr/bin/ibticket, menu entry, icons
#
#   packaging/build.sh --deps                     as root (or with sudo): apt-get install what the build lacks
#   packaging/build.sh                            build with python3 from PATH
#   PYTHON=/usr/bin/python3 packaging/build.sh    build with that Python (any >= 3.11 with a shared libpython)
#
# Needs, from Debian/Ubuntu (--deps installs what is missing and says what and why): the Python's venv
# module and shared libpython (python3.X-venv, libpython3.X for Debian's own python3), dpkg-deb, binutils
# (strip), and the libraries the .deb depends on (the smoke test runs the bundle); desktop-file-validate
# (desktop-file-utils) and appstreamcli (appstream) are used when present. Apart from --deps nothing is
# installed outside build/ and dist/. The version comes from pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
PYTHON=${PYTHON:-python3}
# ldconfig is in /usr/sbin, outside a plain user's PATH on Debian.
PATH=$PATH:/usr/sbin:/sbin
VENV=build/pkg-venv
export PIP_DISABLE_PIP_VERSION_CHECK=1

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "build.sh --deps: run it as root (apt-get install)" >&2; exit 1; fi; }

if [ "${1:-}" = --deps ]; then
  command -v apt-get >/dev/null || { echo "build.sh --deps: needs apt-get (Debian or Ubuntu)" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  updated=
  apt_install() {
    [ -n "$updated" ] || { as_root apt-get update -qq; updated=1; }
    as_root apt-get install -y -q --no-install-recommends "$@" >/dev/null
  }
  if ! command -v "$PYTHON" >/dev/null; then
    [ "$PYTHON" = python3 ] || { echo "build.sh --deps: PYTHON=$PYTHON is not there" >&2; exit 1; }
    echo "build.sh --deps: installing python3 (Debian's own Python, to build with)"
    apt_install python3
  fi
  needs=$("$PYTHON" packaging/pyparts.py apt)
  if [ -z "$needs" ]; then
    echo "build.sh --deps: nothing to install, the build has all it needs"
  else
    echo "build.sh --deps: installing"
    printf '%s\n' "$needs" | sed 's/\t/: /; s/^/  /'
    # shellcheck disable=SC2046
    apt_install $(printf '%s\n' "$needs" | cut -f1)
  fi
  "$PYTHON" packaging/pyparts.py check
  exit
fi
[ $# -eq 0 ] || { echo "usage: [PYTHON=python3.X] packaging/build.sh [--deps]" >&2; exit 2; }

need() { command -v "$1" >/dev/null || { echo "build.sh: $1 is missing (packaging/build.sh --deps, or apt-get install $2)" >&2; exit 1; }; }
command -v "$PYTHON" >/dev/null || { echo "build.sh: $PYTHON is missing (packaging/build.sh --deps)" >&2; exit 1; }
need dpkg-deb dpkg
need dpkg-query dpkg
need strip binutils
need ldconfig libc-bin
"$PYTHON" packaging/pyparts.py check

echo "== build venv ($VENV)"
"$PYTHON" -m venv --clear "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
# Not editable: the bundle is made from ibticket as a wheel installs it, with nothing of the test extras.
"$VENV/bin/pip" install -q . -r packaging/requirements-build.txt
VERSION=$("$VENV/bin/python" packaging/debian_control.py --version-only)
echo "version $VERSION"

echo "== bundle (PyInstaller)"
rm -rf dist/ibticket
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/ibticket.spec
# Python's own binaries may carry debug symbols (a pyenv build does: libpython 23 MB -> 6 MB). The wheels'
# libraries are left as they are: stripping libraries that auditwheel patched can break them.
# Which files those are, the building Python's sysconfig says (Debian's and pyenv's keep them apart).
python_parts=$("$PYTHON" packaging/pyparts.py strip dist/ibticket)
mapfile -t python_parts <<< "$python_parts"
strip --strip-unneeded "${python_parts[@]}"

echo "== system libraries the bundle needs, by Debian package"
"$VENV/bin/python" packaging/check_bundle.py dist/ibticket
GLIBC=$("$VENV/bin/python" packaging/check_bundle.py --glibc dist/ibticket)

echo "== bundle smoke test (offscreen, from another folder, no venv on PATH)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
bundle=$PWD/dist/ibticket
(cd / && env -i HOME="$scratch" PATH=/usr/bin:/bin "$bundle/ibticket" --version)
(cd / && env -i HOME="$scratch" PATH=/usr/bin:/bin "$bundle/ibticket" --smoke --settings "$scratch/s.ini" \
  --log-dir "$scratch/log" --data-dir "$scratch/data" 2>"$scratch/smoke.err") \
  || { cat "$scratch/smoke.err" >&2; echo "build.sh: the bundle's smoke test failed" >&2; exit 1; }

echo "== .deb"
root=build/deb
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" "$root/usr/share/metainfo" \
  "$root/usr/share/doc/ibticket" "$root/usr/share/icons/hicolor/scalable/apps"
cp -a dist/ibticket "$root/opt/ibticket"
# The bootloader finds its _internal folder through /proc/self/exe, so a symlink is enough of a launcher.
ln -s ../../opt/ibticket/ibticket "$root/usr/bin/ibticket"
ln -s ../../opt/ibticket/ibticket-gateway "$root/usr/bin/ibticket-gateway"
cp packaging/ibticket.desktop "$root/usr/share/applications/ibticket.desktop"
cp resources/icons/ibticket.svg "$root/usr/share/icons/hicolor/scalable/apps/ibticket.svg"
for size in 48 128 256; do
  mkdir -p "$root/usr/share/icons/hicolor/${size}x${size}/apps"
  cp "resources/icons/ibticket-$size.png" "$root/usr/share/icons/hicolor/${size}x${size}/apps/ibticket.png"
done
# The release date is the last commit's, so rebuilding one commit gives the same metadata.
# SOURCE_DATE_EPOCH (reproducible-builds.org) stands in for it where there is no .git.
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then release_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)
else release_date=$(git log -1 --format=%cs 2>/dev/null || date -u +%F); fi
sed -e "s/@VERSION@/$VERSION/" -e "s/@DATE@/$release_date/" packaging/ibticket.metainfo.xml \
  > "$root/usr/share/metainfo/ibticket.metainfo.xml"
cat > "$root/usr/share/doc/ibticket/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ibticket
Comment: /opt/ibticket also carries Python (PSF License), Qt and PySide6 (LGPL-3.0), numpy (BSD-3-Clause)
 and the other Python packages the app depends on, each with its licence files under
 /opt/ibticket/_internal where its wheel ships them.

Files: *
License: MIT
COPYRIGHT
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$root/usr/share/applications/ibticket.desktop"
fi
if command -v appstreamcli >/dev/null; then
  # The id is the desktop file's name, which the app also reports to Wayland (setDesktopFileName);
  # AppStream prefers a reverse-DNS id, which this project has no domain for.
  appstreamcli validate --no-net --override=cid-desktopapp-is-not-rdns=info \
    "$root/usr/share/metainfo/ibticket.metainfo.xml" >/dev/null
fi
find "$root" -type d -exec chmod 0755 {} +
chmod -R u+rw,go+r,go-w "$root"
"$VENV/bin/python" packaging/debian_control.py --glibc "$GLIBC" \
  --installed-size "$(du -sk --exclude=DEBIAN "$root" | cut -f1)" > "$root/DEBIAN/control"
deb="dist/ibticket_${VERSION}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null

elapsed=$(( $(date +%s) - start ))
echo "== done in ${elapsed} s"
echo "bundle: $(du -sm dist/ibticket | cut -f1) MB (dist/ibticket)"
echo "deb:    $(( $(stat -c %s "$deb") / 1024 / 1024 )) MB ($deb)"
