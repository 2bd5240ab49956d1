"""The window's garbage-collection policy: survivors of a full collection are frozen while a session runs."""

from __future__ import annotations

import gc
import weakref

from ibticket.trading import gcpolicy


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector can free it


def test_survivors_of_a_full_collection_are_frozen_while_held_and_everything_thawed_after() -> None:
    assert not gcpolicy.holding()
    gcpolicy.hold()
    try:
        assert gc.get_freeze_count() > 0  # what was alive when the session started
        before = gc.get_freeze_count()
        kept = [[i] for i in range(20_000)]  # long-lived containers, like a day of fills
        gc.collect()
        assert gc.get_freeze_count() >= before + len(kept)
        # A cycle that became garbage before the next full collection is still collected.
        node = Node()
        ref = weakref.ref(node)
        del node
        gc.collect()
        assert ref() is None
    finally:
        gcpolicy.release()
    assert not gcpolicy.holding()
    assert gc.get_freeze_count() == 0
    assert gcpolicy._freeze_after_full_collection not in gc.callbacks


def test_the_policy_lasts_until_the_last_session_releases_it() -> None:
    gcpolicy.hold()
    gcpolicy.hold()
    gcpolicy.release()
    assert gcpolicy.holding() and gcpolicy._freeze_after_full_collection in gc.callbacks
    gcpolicy.release()
    gcpolicy.release()  # one release too many is harmless
    assert not gcpolicy.holding() and gc.get_freeze_count() == 0
