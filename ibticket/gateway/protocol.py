"""TWS API socket framing: the handshake, length-prefixed frames and the NUL-terminated text fields."""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Iterable

SERVER_VERSION = 176
# Only the sv-176 message layouts are implemented, so a client must accept exactly that version.
MIN_SERVER_VERSION = 176
HANDSHAKE_PREFIX = b"API\0"
UNSET_INTEGER = 2147483647
UNSET_DOUBLE = 1.7976931348623157e308
# How real TWS spells an unset double; both client libraries parse it.
UNSET_DOUBLE_TEXT = "1.7976931348623157E308"

_LENGTH = struct.Struct(">I")
_HELLO = re.compile(r"^v(\d{1,6})(?:\.\.(\d{1,6}))?(?:\s+(.*))?$", re.DOTALL)

Field = str | int | float | bool | None


class ProtocolError(Exception):
    """The peer broke the framing or the handshake; the connection cannot continue."""


def fmt(value: Field) -> str:
    """One field as text, the way TWS writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value == UNSET_DOUBLE:
            return UNSET_DOUBLE_TEXT
        if not math.isfinite(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    # A NUL inside a text field would split it into two fields and shift everything after it.
    return str(value).replace("\0", "")


def encode_fields(fields: Iterable[Field]) -> bytes:
    payload = "".join(fmt(f) + "\0" for f in fields).encode("utf-8")
    return _LENGTH.pack(len(payload)) + payload


def encode_raw(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


def frame_length(header: bytes) -> int:
    return int(_LENGTH.unpack(header)[0])


def split_fields(payload: bytes) -> list[str]:
    """The text fields of one frame. A missing final NUL is tolerated; clients always send it."""
    text = payload.decode("utf-8", errors="replace")
    fields = text.split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


def parse_hello(payload: bytes) -> tuple[int, int, str]:
    """The client's version range from "v157..176" (optionally followed by connect options)."""
    try:
        text = payload.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ProtocolError("handshake is not ASCII") from exc
    match = _HELLO.match(text.strip("\0").strip())
    if not match:
        raise ProtocolError(f"malformed handshake {text[:40]!r}")
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else low
    if high < low:
        raise ProtocolError(f"empty version range v{low}..{high}")
    return low, high, (match.group(3) or "").strip()


def negotiate(client_min: int, client_max: int) -> int | None:
    """The version to announce, or None when the client's range and ours do not meet."""
    version = min(SERVER_VERSION, client_max)
    if version < client_min or version < MIN_SERVER_VERSION:
        return None
    return version
