"""Dialogs and prompts: connect, settings, the precaution and duplicate prompts, help."""
