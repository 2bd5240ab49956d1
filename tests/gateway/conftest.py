"""Gateway tests talk to a real PaperGateway over a real loopback socket with the real client libraries."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(autouse=True)
def _quiet_client_logs():
    # ib_insync logs every expected error (200, 103, 201 ...) at ERROR level; keep test output readable,
    # and restore the levels so that other suites in the same run see their usual logging.
    loggers = [logging.getLogger(name) for name in ("ib_insync", "ibapi")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/gateway" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.gateway)
