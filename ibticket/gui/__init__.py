"""The desktop trading window (PySide6 on one qasync loop).

Qt-free pieces (the order-line grammar, the precaution rules, the session, formatting) sit beside the
widgets so they can be tested without a QApplication. Nothing here imports the broker (and so ib_insync
and numpy) before the first window is painted: see ``app.py``.
"""
