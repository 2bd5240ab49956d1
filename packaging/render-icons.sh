#!/usr/bin/env bash
# Render resources/icons/ibticket.svg to the PNG sizes the desktop and the window use (48, 128, 256 px).
# Needs rsvg-convert (Debian: apt-get install librsvg2-bin). The PNGs are committed; run this after
# changing the SVG.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v rsvg-convert >/dev/null || { echo "render-icons: rsvg-convert is missing (apt-get install librsvg2-bin)" >&2; exit 1; }
for size in 48 128 256; do
  rsvg-convert --width "$size" --height "$size" --keep-aspect-ratio resources/icons/ibticket.svg \
    --output "resources/icons/ibticket-$size.png"
done
ls -l resources/icons/
