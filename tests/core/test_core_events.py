"""The one event primitive: listeners in order, each once, a raising one logged and the rest still called."""

from __future__ import annotations

import logging

import pytest

from ibticket.core.events import Event


def test_listeners_hear_each_emit_in_the_order_they_connected() -> None:
    heard: list[tuple[str, int, str]] = []
    event: Event[[int, str]] = Event("numbers")
    event.connect(lambda n, text: heard.append(("first", n, text)))
    event.connect(lambda n, text: heard.append(("second", n, text)))
    event.emit(1, "one")
    assert heard == [("first", 1, "one"), ("second", 1, "one")]
    assert len(event) == 2 and "numbers" in repr(event)


def test_connecting_twice_calls_once_and_disconnect_is_forgiving() -> None:
    heard: list[int] = []
    event: Event[[int]] = Event("n")
    event.connect(heard.append)
    event.connect(heard.append)
    event.emit(3)
    event.disconnect(heard.append)
    event.disconnect(heard.append)  # not connected any more: nothing happens
    event.emit(4)
    assert heard == [3]


def test_a_raising_listener_is_logged_and_the_others_still_hear(caplog: pytest.LogCaptureFixture) -> None:
    heard: list[int] = []
    event: Event[[int]] = Event("fill")

    def broken(n: int) -> None:
        raise RuntimeError("a broken view")

    event.connect(broken)
    event.connect(heard.append)
    with caplog.at_level(logging.ERROR):
        event.emit(7)
    assert heard == [7]
    assert "fill listener" in caplog.text and "a broken view" in caplog.text


def test_a_listener_may_disconnect_itself_while_it_is_called() -> None:
    heard: list[str] = []
    event: Event[[]] = Event("once")

    def once() -> None:
        heard.append("once")
        event.disconnect(once)

    event.connect(once)
    event.connect(lambda: heard.append("always"))
    event.emit()
    event.emit()
    assert heard == ["once", "always", "always"]
