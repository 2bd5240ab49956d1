"""The PySide6 trading window."""
