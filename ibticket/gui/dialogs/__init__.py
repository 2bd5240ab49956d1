"""Dialogs and prompts: connect, settings, the precaution and duplicate prompts, help, the log viewer's (an
order's history, unreadable lines, where to export)."""
