"""A minute of the fault soak (bench/soak.py) in the normal test run.

The real window (offscreen, in a child process) trades at random through the order line while the paper
gateway injects faults and the app is SIGKILLed and restarted; at the end nothing may be lost, counted twice,
out of step with the gateway, or sent twice. ``bench/soak.py`` runs the same for ten minutes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from soak import run_soak

pytest.importorskip("qasync")


@pytest.mark.timeout(180)  # about 50 s of wall time; the margin is for a loaded machine
def test_a_minute_of_random_trading_faults_and_kills_loses_and_doubles_nothing(tmp_path: Path) -> None:
    result = run_soak(duration=35, kills=2, seed=7, workdir=tmp_path, pace=0.2, fault_every=1.0,
                      log=lambda _text: None)
    print(result.report())
    assert result.ok, result.report()
    assert result.kills == 2
    assert result.orders >= 20 and result.executions >= 20, result.report()
    assert sum(result.faults.values()) >= 10, result.report()
