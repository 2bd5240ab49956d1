"""The window's words for what the layers below say to scripts.

The duplicate guard (core/dedup.py) advises a script to send again with ``force=True``; in the window the
same choice is the "Send anyway" button of the prompt that asks about it. A taken client id (ClientIdInUse)
advises ``client_id=…``; the window's are ``--client-id`` and File → Connect….
"""

from __future__ import annotations

import re

_FORCE_ADVICE = re.compile(r"\s*Send it again with force=True, or wait (\d+) s\.")
_REFUSED = "Duplicate order refused: "
_CLIENT_ID_ADVICE = "(client_id=… or IBTICKET_CLIENT_ID)"


def duplicate_reason(text: str) -> str:
    """The guard's reason without its advice to scripts (the prompt's buttons are the advice)."""
    return _FORCE_ADVICE.sub("", text)


def for_window(text: str) -> str:
    """A message as the window shows it: no advice only a script can follow."""
    text = text.replace(f"Not sent: {_REFUSED}", "Not sent: ")  # "Not sent: ... refused" says it twice
    text = text.replace(_CLIENT_ID_ADVICE, "(File → Connect…, or --client-id and --log-dir at the start)")
    return _FORCE_ADVICE.sub(r" To send a second one, send it again and choose “Send anyway” (or wait \1 s).", text)
