"""examples/spec_demo.py runs the spec's usage example end to end through IBKRBroker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_main_runs_the_usage_example_against_the_embedded_gateway(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBTICKET_TWS")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "spec_demo.py"), "--log-dir", str(tmp_path), "--seconds", "10"],
        capture_output=True, text=True, timeout=50, env=env, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "embedded paper gateway" in out
    assert "Final status: Filled  Filled: 100/100" in out
    assert "Same order again at once: refused" in out
    assert "Orders today: 2  Filled: 1  Cancelled: 1  Errors: 0" in out
    assert list(tmp_path.glob("orders-*.jsonl"))
