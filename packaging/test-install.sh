#!/usr/bin/env bash
# Build the .deb on a fresh, minimal Debian 12 and install it on another, as a user would:
#   build: `packaging/build.sh --deps` (as root) installs what the build lacks, then `packaging/build.sh` as
#   a plain user builds with Debian's own python3, from this checkout's files (git's view of them);
#   install: apt-get install ./ibticket_<v>_amd64.deb pulls the dependencies; no Python is on that machine;
#   every library the bundle links resolves; `ibticket --version` and `ibticket --smoke` pass as a plain user
#   from / (offscreen, then under Xvfb on X11); the menu entry and icons are in place; running it writes only
#   to the user's home; `apt-get remove ibticket` leaves nothing of it behind but the user's settings and logs.
#
#   sudo packaging/test-install.sh                       build in a fresh Debian 12, install in another
#   sudo packaging/test-install.sh dist/ibticket_<v>_amd64.deb    only install (and check) that .deb
#
# Needs root, debootstrap (apt-get install debootstrap), Debian's package mirror (debootstrap's default) and,
# to build, PyPI. The fresh Debian is a debootstrap chroot in a temporary folder (IBTICKET_TEST_ROOT to
# choose where), copied once more to build in, both removed afterwards; only /proc is mounted into them, and
# unmounted before anything is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - start )) s)"; }
fail() { echo "test-install: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap and chroot)"
command -v debootstrap >/dev/null || fail "debootstrap is missing (apt-get install debootstrap)"
deb=${1:-}
if [ -n "$deb" ]; then
  [ -f "$deb" ] || fail "no such .deb: $deb"
  deb=$(realpath "$deb")
fi

parent=${IBTICKET_TEST_ROOT:-${TMPDIR:-/tmp}}
target=$(mktemp -d "$parent/ibticket-debian12.XXXXXX")
builder=$target.build
chmod 0755 "$target"  # the root of a system: the plain user must get in
cleanup() {
  for root in "$target" "$builder"; do
    [ -d "$root" ] || continue
    # Whatever still runs inside a fresh system (an Xvfb of a failed step) goes first.
    for proc in /proc/[0-9]*; do
      if [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ]; then kill "${proc#/proc/}" 2>/dev/null || true; fi
    done
    if mountpoint -q "$root/proc"; then umount "$root/proc" || umount -l "$root/proc"; fi
    # Never remove a tree with anything still mounted in it.
    if grep -q " $root/" /proc/mounts; then
      echo "test-install: something is still mounted under $root; left in place" >&2
    else
      rm -rf "$root"
    fi
  done
  rm -f "$target.debootstrap.log" "$builder.deps.log" "$builder.build.log"
}
trap cleanup EXIT
in_root() { chroot "$target" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
as_user() { chroot --userspec=trader:trader "$target" env -i HOME=/home/trader PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"; }
# Every file and symlink of the system, less what changes by itself (apt and dpkg state, logs, caches).
snapshot() {
  (cd "$target" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./sys -o -path ./tmp -o -path ./run \
      -o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache -o -path ./var/log \) -prune \
      -o \( -type f -o -type l \) -print | sed 's#^\.##' | LC_ALL=C sort) > "$1"
}

step "fresh Debian 12 (debootstrap --variant=minbase bookworm) in $target"
debootstrap --variant=minbase bookworm "$target" > "$target.debootstrap.log" 2>&1 \
  || { tail -20 "$target.debootstrap.log" >&2; fail "debootstrap failed"; }
cp /etc/resolv.conf "$target/etc/resolv.conf"
if [ -z "$deb" ]; then
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 || fail "building needs a git checkout (or give a .deb)"
  step "a copy of it to build in ($builder)"
  cp -a "$target" "$builder"
  build_in() { chroot "$builder" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
  build_in useradd --create-home --shell /bin/bash builder
  src=$builder/home/builder/ibticket
  mkdir "$src"
  # The checkout as git sees it (committed and new files, nothing ignored: no venv, build/ or dist/).
  git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' file; do [ ! -e "$file" ] || printf '%s\0' "$file"; done \
    | tar --null -T - -cf - | tar -xf - -C "$src"
  build_in chown -R builder:builder /home/builder/ibticket
  mount -t proc proc "$builder/proc"
  step "packaging/build.sh --deps (as root)"
  build_in sh -c 'cd /home/builder/ibticket && packaging/build.sh --deps' > "$builder.deps.log" 2>&1 \
    || { tail -30 "$builder.deps.log" >&2; fail "build.sh --deps failed"; }
  sed -n '/^build.sh --deps/,$p' "$builder.deps.log"
  step "packaging/build.sh as a plain user, with Debian's python3"
  # The metadata's release date is the last commit's, as on a checkout (the copy has no .git).
  epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)
  # pip reaches PyPI through this machine's network, so with its certificate authorities as well (a
  # TLS-inspecting proxy's CA is in this machine's store, not in a fresh Debian's) and its proxy, if any.
  network=()
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$builder/home/builder/host-ca-certificates.crt"
    network+=(PIP_CERT=/home/builder/host-ca-certificates.crt)
  fi
  for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -z "${!name:-}" ] || network+=("$name=${!name}")
  done
  chroot --userspec=builder:builder "$builder" env -i HOME=/home/builder PATH=/usr/bin:/bin LANG=C.UTF-8 \
    SOURCE_DATE_EPOCH="$epoch" "${network[@]}" sh -c 'cd ~/ibticket && packaging/build.sh' \
    > "$builder.build.log" 2>&1 \
    || { tail -40 "$builder.build.log" >&2; fail "build.sh failed on a fresh Debian 12"; }
  grep -E "^(python|== done|bundle:|deb:)" "$builder.build.log" | sed 's/^/  /'
  deb=$(ls "$src"/dist/ibticket_*_amd64.deb)
  cp "$deb" "$target/tmp/"
  deb=$target/tmp/$(basename "$deb")
  umount "$builder/proc"
  rm -rf "$builder" "$builder.deps.log" "$builder.build.log"
fi
mount -t proc proc "$target/proc"
in_root useradd --create-home --shell /bin/bash trader
if in_root sh -c 'command -v python3 || ls /usr/bin/python* /usr/lib/libpython* /usr/lib/*/libpython*' \
  >/dev/null 2>&1; then fail "the fresh system already has Python"; fi

step "apt-get install ./$(basename "$deb")"
[ "$(dirname "$deb")" = "$target/tmp" ] || cp "$deb" "$target/tmp/"
in_root apt-get install -y -q "./tmp/$(basename "$deb")" > "$target/tmp/install.log" 2>&1 \
  || { tail -30 "$target/tmp/install.log" >&2; fail "apt-get install failed"; }
grep -E "^(Need to get|After this operation)" "$target/tmp/install.log" || true
in_root sh -c 'command -v python3 || ls /usr/bin/python*' >/dev/null 2>&1 && fail "installing pulled in Python"
[ -x "$target/usr/bin/ibticket" ] || fail "/usr/bin/ibticket missing"
[ -f "$target/usr/share/applications/ibticket.desktop" ] || fail "the menu entry is missing"
grep -qx "Exec=ibticket" "$target/usr/share/applications/ibticket.desktop" || fail "the menu entry does not run ibticket"
for icon in scalable/apps/ibticket.svg 48x48/apps/ibticket.png 128x128/apps/ibticket.png 256x256/apps/ibticket.png; do
  [ -f "$target/usr/share/icons/hicolor/$icon" ] || fail "icon $icon missing"
done
[ -f "$target/usr/share/metainfo/ibticket.metainfo.xml" ] || fail "AppStream metainfo missing"

step "every library the bundle links resolves"
missing=$(in_root sh -c 'find /opt/ibticket -type f \( -name "*.so" -o -name "*.so.*" -o -perm -u+x \) \
  -exec sh -c "ldd \"\$1\" 2>/dev/null | grep \"not found\" | sed \"s#^#\$1: #\"" _ {} \;')
[ -z "$missing" ] || { echo "$missing" >&2; fail "libraries not found: a package is missing from Depends"; }

step "ibticket --version and --smoke (offscreen) as a plain user, from /"
snapshot "$target/tmp/before-run"
as_user sh -c 'cd / && ibticket --version && ibticket --smoke' 2> "$target/tmp/smoke.err" \
  || { cat "$target/tmp/smoke.err" >&2; fail "the smoke test failed offscreen"; }
as_user sh -c 'cd / && ibticket-gateway --help' > /dev/null || fail "ibticket-gateway --help failed"
snapshot "$target/tmp/after-run"
written=$(comm -13 "$target/tmp/before-run" "$target/tmp/after-run" | grep -v '^/home/trader/' || true)
[ -z "$written" ] || { echo "$written" >&2; fail "running the app wrote outside the user's home"; }
comm -13 "$target/tmp/before-run" "$target/tmp/after-run" | sed 's/^/  user file: /'

step "ibticket --smoke under Xvfb (the X11 platform)"
in_root apt-get install -y -q --no-install-recommends xvfb > "$target/tmp/xvfb.log" 2>&1 \
  || { tail -20 "$target/tmp/xvfb.log" >&2; fail "installing xvfb failed"; }
# -displayfd: Xvfb takes the first free display number and says which.
as_user sh -c 'Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>/tmp/display 2>/tmp/xvfb.err & xvfb=$!
  for _ in $(seq 100); do [ -s /tmp/display ] && break; sleep 0.1; done
  [ -s /tmp/display ] || { echo "Xvfb did not start" >&2; cat /tmp/xvfb.err >&2; kill $xvfb; exit 1; }
  cd / && DISPLAY=:$(cat /tmp/display) QT_QPA_PLATFORM=xcb ibticket --smoke; code=$?
  kill $xvfb; wait $xvfb; exit $code' 2> "$target/tmp/smoke-xcb.err" \
  || { cat "$target/tmp/smoke-xcb.err" >&2; fail "the smoke test failed under Xvfb"; }

step "apt-get remove ibticket"
in_root dpkg-query -L ibticket > "$target/tmp/package-paths"
snapshot "$target/tmp/before-remove"
in_root apt-get remove -y -q ibticket > "$target/tmp/remove.log" 2>&1 \
  || { tail -20 "$target/tmp/remove.log" >&2; fail "apt-get remove failed"; }
snapshot "$target/tmp/after-remove"
left=$(grep -Fxf "$target/tmp/package-paths" "$target/tmp/after-remove" || true)
[ -z "$left" ] || { echo "$left" >&2; fail "files of the package are still there"; }
[ ! -e "$target/opt/ibticket" ] || fail "/opt/ibticket is still there"
gone_else=$(comm -23 "$target/tmp/before-remove" "$target/tmp/after-remove" | grep -Fvxf "$target/tmp/package-paths" || true)
[ -z "$gone_else" ] || { echo "$gone_else" >&2; fail "removing the package removed files not its own"; }
new=$(comm -13 "$target/tmp/before-remove" "$target/tmp/after-remove" || true)
[ -z "$new" ] || { echo "$new" >&2; fail "removing the package left new files"; }
echo "  left behind: $(grep -c '^/home/trader/' "$target/tmp/after-remove") file(s), all in /home/trader"

step "passed in $(( $(date +%s) - start )) s"
