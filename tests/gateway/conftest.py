"""Gateway tests talk to a real PaperGateway over a real loopback socket with the real client libraries."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(autouse=True)
def _quiet_client_logs():
    # ib_insync logs every expected error (200, 103, 201 ...) at ERROR level; keep test output readable.
    for name in ("ib_insync", "ibapi"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    yield


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/gateway" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.gateway)
