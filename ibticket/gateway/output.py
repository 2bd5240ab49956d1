"""The output side of one client connection: batched writes, delayed frames, and the bounds on what queues up.

The frames a connection produces during one event-loop turn are written with a single ``transport.write``
at the end of that turn (or earlier, when someone waits for the client to drain).

What a client has not taken yet, its *queued* output, is the frames of the current turn, the frames held by
``delay_messages`` and the transport's buffer. It is bounded so that one client can never grow the gateway:

* the session stops reading requests, and a long reply pauses, while the unsent part (everything but the
  delayed frames) is over ``max_write_buffer``, the cap;
* a client that takes none of its output for ``slow_reader_timeout`` while the gateway waits on it is cut;
* queued output never goes above twice the cap: a client that would get there is cut at once (only
  pushes, e.g. quotes to a client that reads far slower than they come, or delayed frames, get that far).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

from .config import GatewayConfig
from .netstats import NetworkStats

log = logging.getLogger(__name__)

# The transport's high-water mark: a fill waits for the client to drain below it (see wait_writable).
HIGH_WATER = 256 << 10


class ClientOutput:
    """Ordered, batched, bounded output of one connection. Use it from the gateway's event loop."""

    def __init__(
        self, writer: asyncio.StreamWriter, config: GatewayConfig, stats: NetworkStats,
        delay: Callable[[], float], name: Callable[[], str], on_cut: Callable[[], None],
        on_written: Callable[[list[bytes]], None] | None = None,
    ) -> None:
        self._writer = writer
        self._transport = writer.transport
        self._config = config
        self._stats = stats
        self._delay = delay
        self._name = name
        self._on_cut = on_cut
        # Told the frames of each write once they are in the transport (the gateway's wire taps).
        self._on_written = on_written
        self._loop = asyncio.get_running_loop()
        self.closed = False
        # Frames of the current loop turn, written together by flush().
        self._outbox: list[bytes] = []
        self._outbox_bytes = 0
        self._outbox_flush: asyncio.Handle | None = None
        # delay_messages: (due time, frame), written in order by _flush_delayed.
        self._pending: deque[tuple[float, bytes]] = deque()
        self._pending_bytes = 0
        self._flusher: asyncio.Task[None] | None = None
        # Stall detection: bytes handed to the transport, and since when the client has taken none.
        self._written = 0
        self._stall_mark = -1
        self._stall_since = 0.0
        self.peak_queued = 0
        with contextlib.suppress(Exception):
            self._transport.set_write_buffer_limits(high=self.high_water)

    @property
    def high_water(self) -> int:
        return min(HIGH_WATER, max(1, self._config.max_write_buffer // 4))

    @property
    def cap(self) -> int:
        return self._config.max_write_buffer

    @property
    def hard_limit(self) -> int:
        return 2 * self._config.max_write_buffer

    @property
    def queued(self) -> int:
        """Bytes produced for this client that it has not taken yet (the kernel's socket buffer aside)."""
        return self._outbox_bytes + self._pending_bytes + self._transport.get_write_buffer_size()

    @property
    def unsent(self) -> int:
        """Queued output that is due now (frames held back by delay_messages aside)."""
        return self._outbox_bytes + self._transport.get_write_buffer_size()

    @property
    def over_cap(self) -> bool:
        return self.unsent > self.cap

    # --- producing ---------------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        if self.closed:
            return
        queued = self.queued + len(data)
        if queued > self.hard_limit:
            self.cut(f"is too far behind ({queued >> 10} KiB of messages queued, the limit is "
                     f"{self.hard_limit >> 10} KiB)")
            return
        if queued > self.peak_queued:
            self.peak_queued = queued
            self._stats.note_queued(queued)
        delay = self._delay()
        if delay <= 0 and not self._pending:
            self._outbox.append(data)
            self._outbox_bytes += len(data)
            if self._outbox_flush is None:
                self._outbox_flush = self._loop.call_soon(self.flush)
            return
        self._pending.append((self._loop.time() + delay, data))
        self._pending_bytes += len(data)
        if self._flusher is None or self._flusher.done():
            self._flusher = self._loop.create_task(self._flush_delayed())

    def flush(self) -> None:
        """Write the frames queued so far, in order, with one transport.write."""
        if self._outbox_flush is not None:
            self._outbox_flush.cancel()
            self._outbox_flush = None
        if self.closed or not self._outbox:
            return
        out, self._outbox, self._outbox_bytes = self._outbox, [], 0
        self._write(out)

    def _write(self, frames: list[bytes]) -> None:
        """Hand these frames to the transport with one write (unless the client is gone or cut)."""
        if self._transport.is_closing():
            self._on_cut()
            return
        buffered = self._transport.get_write_buffer_size()
        if buffered > self.cap and self._cut_if_stalled(buffered):
            return
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        self._writer.write(data)
        self._written += len(data)
        if self._on_written is not None:
            self._on_written(frames)

    async def _flush_delayed(self) -> None:
        while self._pending and not self.closed:
            wait = self._pending[0][0] - self._loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            # Frames queued before the delay was switched on go first.
            self.flush()
            now = self._loop.time()
            due: list[bytes] = []
            while self._pending and self._pending[0][0] <= now:
                due.append(self._pending.popleft()[1])
            self._pending_bytes -= sum(map(len, due))
            if not self.closed and due:
                self._write(due)

    # --- waiting for the client --------------------------------------------------------------------
    async def wait_writable(self, limit: int | None = None) -> None:
        """Flush, then wait while unsent output is above `limit` (default: the high-water mark).

        Always yields to the loop at least once, so the reads, other clients and timers get their turn.
        A client that takes nothing for slow_reader_timeout meanwhile is cut.
        """
        limit = self.high_water if limit is None else limit
        self.flush()
        while not self.closed:
            # After the flush everything unsent is in the transport, which is paused above its high water
            # (<= limit): drain() below really waits.
            buffered = self._transport.get_write_buffer_size()
            if buffered <= limit:
                await asyncio.sleep(0)
                return
            if self._cut_if_stalled(buffered):
                return
            try:
                await asyncio.wait_for(self._writer.drain(), self._config.slow_reader_timeout / 4)
            except TimeoutError:
                continue
            except (ConnectionError, RuntimeError):
                return

    def _cut_if_stalled(self, buffered: int) -> bool:
        """Cut a client that has taken none of its queued output for slow_reader_timeout seconds.

        A client that reads, however slowly, is not cut: the clock restarts whenever the transport has
        handed more bytes to the kernel (i.e. the client took some) since the last look.
        """
        now = self._loop.time()
        delivered = self._written - buffered
        if delivered != self._stall_mark:
            self._stall_mark, self._stall_since = delivered, now
            return False
        stalled = now - self._stall_since
        if stalled < self._config.slow_reader_timeout:
            return False
        self.cut(f"does not read its messages ({buffered} bytes queued, none taken for {stalled:.1f} s)")
        return True

    # --- ending --------------------------------------------------------------------------------------
    def cut(self, why: str) -> None:
        """Drop the connection at once, with whatever it has not taken."""
        if self.closed:
            return
        log.warning("%s %s; disconnecting", self._name(), why)
        self._stats.slow_readers_cut += 1
        self._discard()
        self._transport.abort()
        self._on_cut()

    def close(self) -> None:
        """Close after writing what is already sent (the peer sees an orderly FIN); delayed frames are lost."""
        if self.closed:
            return
        out = self._outbox
        self._discard()
        with contextlib.suppress(Exception):
            if out and not self._transport.is_closing():
                self._writer.write(b"".join(out))
                if self._on_written is not None:
                    self._on_written(out)
        with contextlib.suppress(Exception):
            self._writer.close()

    def cut_quietly(self) -> None:
        """Drop a connection that was never served (it is not counted as a slow reader)."""
        self._discard()
        self._transport.abort()

    def abort_unsent(self) -> None:
        """At shutdown: drop a connection that still has output its client has not taken."""
        with contextlib.suppress(Exception):
            if self._transport.get_write_buffer_size():
                self._transport.abort()

    def _discard(self) -> None:
        self.closed = True
        if self._flusher is not None:
            self._flusher.cancel()
        if self._outbox_flush is not None:
            self._outbox_flush.cancel()
            self._outbox_flush = None
        self._outbox, self._outbox_bytes = [], 0
        self._pending.clear()
        self._pending_bytes = 0
