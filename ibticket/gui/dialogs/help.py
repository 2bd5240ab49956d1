"""Help texts: the order line grammar and the About box (with the versions a bug report needs)."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from ... import __version__


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str]:
    import PySide6
    from PySide6 import QtCore

    found = {
        "ibticket": __version__,
        "Python": platform.python_version(),
        "Qt": QtCore.qVersion(),
        "PySide6": PySide6.__version__,
        "qasync": _version("qasync") or "?",
    }
    for lib in ("ib_async", "ib_insync"):
        v = _version(lib)
        if v:
            found[lib] = v
    return found


def about_text() -> str:
    rows = "".join(f"<tr><td>{k}</td><td>&nbsp;{v}</td></tr>" for k, v in versions().items())
    return (
        "<h3>ibticket</h3><p>A desktop order ticket for Interactive Brokers, with an embedded paper "
        "gateway for trading a simulated account.</p>"
        f"<table>{rows}</table><p>Platform: {platform.platform()} ({sys.platform})</p>"
    )


def order_line_help() -> str:
    return """
<h3>The order line</h3>
<p><b>Ctrl+L</b> focuses it. <b>Enter</b> sends through the same checks as the Send button (precautions,
duplicate guard). <b>Shift+Enter</b> only fills the ticket. <b>Up/Down</b> recall earlier lines.
Words are case-insensitive.</p>
<pre>
buy|b|sell|s QTY SYMBOL [mkt | lmt PRICE | @PRICE | stp STOP | stplmt STOP LIMIT]
                        [day|gtc|ioc] [orth]
cancel ID | cancel all
modify ID [qty N] [lmt PRICE] [stp PRICE]
</pre>
<p>Examples:</p>
<pre>
buy 100 AAPL mkt
s 50 msft @412.30 gtc
b 10 spy stplmt 500 501 ioc orth
cancel 12
modify 12 lmt 187.30
</pre>
<p>With no type the order is a market order; with no TIF it is DAY. <i>orth</i> lets it fill outside
regular trading hours.</p>
"""
