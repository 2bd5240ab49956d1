"""Counters of the gateway's network side: what its limits did, for tests and tools (see docs/gateway.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class NetworkStats:
    # Connections accepted, the refused ones included.
    connections: int = 0
    # The most connections open at the same time (refused ones are never counted as open).
    peak_connections: int = 0
    # Connections refused because max_clients connections were open.
    refused: int = 0
    # Requests read from clients (handshake and startApi included).
    requests: int = 0
    # Connections closed because the handshake, or a frame once begun, did not arrive in time.
    handshake_timeouts: int = 0
    frame_timeouts: int = 0
    # Frames refused from their length prefix alone (over max_frame_bytes).
    oversized_frames: int = 0
    # Clients cut because they did not read their messages or fell too far behind.
    slow_readers_cut: int = 0
    # The most output queued for one client at any moment, in bytes.
    peak_queued_bytes: int = 0

    def note_queued(self, queued: int) -> None:
        if queued > self.peak_queued_bytes:
            self.peak_queued_bytes = queued
