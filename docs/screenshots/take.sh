#!/usr/bin/env bash
# Drive the real window under Xvfb with the keyboard and the mouse (xdotool) and take the screenshots in
# this folder, on a 1280×800 screen (a laptop's): the main window light and dark, the ticket, a prompt.
# Needs: apt-get install xvfb xdotool imagemagick (and the xcb libraries of the README).
# Usage: docs/screenshots/take.sh [DISPLAY_NUMBER]   (PYTHON=... to run another interpreter than .venv's)
set -euo pipefail
cd "$(dirname "$0")/../.."
num=${1:-77}
python=${PYTHON:-.venv/bin/python}
export DISPLAY=":$num" QT_QPA_PLATFORM=xcb
work=$(mktemp -d)
Xvfb "$DISPLAY" -screen 0 1280x800x24 >/dev/null 2>&1 & xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true; sleep 0.5; rm -rf "$work"' EXIT
sleep 1
printf '[view]\ntheme=light\n' >"$work/s.ini"
"$python" main.py --settings "$work/s.ini" --log-dir "$work/log" --data-dir "$work/data" >"$work/app.log" 2>&1 &
app=$!
for _ in $(seq 50); do win=$(xdotool search --name "ibticket —" 2>/dev/null | head -1 || true); [ -n "$win" ] && break; sleep 0.2; done
sleep 3  # connected, first quotes
xdotool windowsize --sync "$win" 1280 800 windowmove "$win" 0 0 windowfocus --sync "$win"
line() { xdotool key ctrl+l; sleep 0.3; xdotool type --delay 25 "$1"; sleep 0.2; xdotool key Return; sleep 1.2; }
line "buy 100 aapl mkt"
line "s 40 aapl lmt 233.50 gtc"
line "buy 300 nvda mkt"
line "b 200 spy lmt 572.00 gtc"
line "sell 25 msft @425 day"
line "buy 50 tsla stp 260"
line "cancel 6"
line "b 20 msft lmt 1.00"   # 99% below the market: the precaution prompt
sleep 0.5
import -window root docs/screenshots/precaution-prompt.png
xdotool key Escape; sleep 0.8; xdotool windowfocus --sync "$win"   # refused: the line stays, selected
xdotool key ctrl+t; sleep 0.3; xdotool type --delay 25 "msft"; xdotool key Return; sleep 1.5
xdotool key alt+s; sleep 0.5
import -window root -crop 358x560+0+74 +repage docs/screenshots/ticket.png
xdotool key ctrl+1; sleep 0.3
xdotool mousemove --window "$win" 492 104 click 1; sleep 0.8   # Orders: All
import -window root docs/screenshots/main-window.png
xdotool key alt+v; sleep 0.4; xdotool key t; sleep 0.3; xdotool key d; sleep 1.2   # View → Theme → Dark
import -window root docs/screenshots/main-window-dark.png
echo "screenshots written to docs/screenshots/"
