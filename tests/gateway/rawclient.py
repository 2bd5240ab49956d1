"""A minimal raw-socket TWS API peer for protocol tests: send arbitrary bytes, read frames back."""

from __future__ import annotations

import socket
import struct
import time

from ib_insync import Order, Stock
from ib_insync.client import Client

MAX_FRAME = 1 << 20


def frame(fields: list[str]) -> bytes:
    payload = "".join(f + "\0" for f in fields).encode("utf-8", errors="surrogatepass")
    return struct.pack(">I", len(payload)) + payload


class RawPeer:
    def __init__(self, port: int, timeout: float = 2.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""
        self.closed_by_server = False

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed_by_server = True

    def handshake(self, client_id: int) -> list[str]:
        hello = b"v157..176"
        self.send(b"API\0" + struct.pack(">I", len(hello)) + hello)
        reply = self.read_frame(2.0)
        assert reply is not None and reply[0] == "176", reply
        self.send(frame(["71", "2", str(client_id), ""]))
        return reply

    def read_frame(self, timeout: float) -> list[str] | None:
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buffer) >= 4:
                size = struct.unpack(">I", self.buffer[:4])[0]
                if len(self.buffer) >= 4 + size:
                    payload, self.buffer = self.buffer[4 : 4 + size], self.buffer[4 + size :]
                    return payload.decode("utf-8", errors="replace").split("\0")[:-1]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed_by_server:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return None
            except OSError:
                self.closed_by_server = True
                return None
            if not chunk:
                self.closed_by_server = True
                return None
            self.buffer += chunk

    def drain(self, quiet: float = 0.05, limit: float = 2.0) -> list[list[str]]:
        """Frames until the server goes quiet for `quiet` seconds or closes."""
        frames = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and (f := self.read_frame(quiet)) is not None:
            frames.append(f)
        return frames

    def close(self) -> None:
        self.sock.close()


class _Encoder(Client):
    """ib_insync's own request encoder, capturing the fields instead of sending them."""

    def __init__(self) -> None:
        super().__init__(wrapper=None)
        self._serverVersion = 176
        self.sent: list[list[str]] = []

    def isConnected(self) -> bool:
        return True

    def sendMsg(self, msg: str) -> None:
        self.sent.append(msg.split("\0")[:-1])


# Where placeOrder carries the order's prices (server version 176).
LMT_PRICE_FIELD = 19
AUX_PRICE_FIELD = 20


def place_order_fields(order_id: int, order: Order, symbol: str = "AAPL") -> list[str]:
    """The fields of a placeOrder request exactly as ib_insync writes them, for raw-socket tests to edit."""
    encoder = _Encoder()
    encoder.placeOrder(order_id, Stock(symbol, "SMART", "USD"), order)
    return encoder.sent[-1]


def req_executions(req_id: int) -> bytes:
    """reqExecutions with an empty filter: every execution the gateway will replay to this client."""
    return frame(["7", "3", str(req_id), "0", "", "", "", "", "", ""])
