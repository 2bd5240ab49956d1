"""Every script in bench/ runs in its quick mode, so none rots unseen again (issue #19: the window benchmark
failed at start for weeks because benchgw patched a gateway method that had been removed).

Each script runs as its own process, as a person runs it (``python bench/NAME.py --quick``): Qt offscreen,
the tree under test first on the path, a scratch TMPDIR. It must exit 0 and print its figures. The scripts
check their own counts (a fill lost, a probe that stamped nothing, a swapped-in baseline the code does not
call) and exit non-zero when one is off; no time is asserted. A new script is picked up by itself, and
fails here until it has a ``--quick`` mode.

About 60 s in all. Deselect with ``-m "not bench"``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
SCRIPTS = sorted(path.name for path in BENCH.glob("*.py"))
RUN_TIMEOUT = 150.0  # the slowest (window_bench.py) takes about 15 s; the margin is for a loaded machine

pytestmark = pytest.mark.bench


def test_the_bench_folder_is_found() -> None:
    assert "window_bench.py" in SCRIPTS and "benchgw.py" in SCRIPTS, SCRIPTS


@pytest.mark.timeout(RUN_TIMEOUT + 30)
@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_mode_runs(script: str, tmp_path: Path) -> None:
    path = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=os.pathsep.join(path), TMPDIR=str(tmp_path),
               PYTHONUNBUFFERED="1")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(BENCH / script), "--quick"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT)
    print(f"bench/{script} --quick: {time.monotonic() - started:.1f} s\n{proc.stdout}")
    if proc.returncode == 2 and "usage:" in proc.stderr:
        pytest.fail(f"bench/{script} did not take --quick: every bench script needs a quick mode (seconds, tiny "
                    f"sizes, its whole path; see docs/benchmarks.md)\n{proc.stderr[-1500:]}")
    stderr = "\n".join(line for line in proc.stderr.splitlines() if "propagateSizeHints" not in line)
    assert proc.returncode == 0, (f"bench/{script} --quick exited with status {proc.returncode}\n"
                                  f"--- stdout (end)\n{proc.stdout[-3000:]}\n--- stderr (end)\n{stderr[-3000:]}")
    assert proc.stdout.strip(), f"bench/{script} --quick printed no figures"
