"""Questions to the trader, asked without blocking the loop.

A modal ``exec()`` inside a coroutine would re-enter the qasync loop ("Cannot enter into task"), so each
prompt is shown with ``open()`` and the coroutine awaits a future its ``finished`` signal resolves.
Escape (or closing the box) always means "send nothing".
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Sequence

from PySide6.QtWidgets import QMessageBox, QWidget

from ...trading.precautions import Breach
from ..wording import duplicate_reason


async def ask(
    parent: QWidget | None,
    name: str,
    title: str,
    text: str,
    detail: str,
    accept_label: str,
    accept_name: str,
    icon: QMessageBox.Icon = QMessageBox.Icon.Warning,
    reject_label: str = "Cancel",
) -> bool:
    box = QMessageBox(parent)
    box.setObjectName(name)
    box.setIcon(icon)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(detail)
    accept = box.addButton(accept_label, QMessageBox.ButtonRole.AcceptRole)
    accept.setObjectName(accept_name)
    reject = box.addButton(reject_label, QMessageBox.ButtonRole.RejectRole)
    reject.setObjectName(name + "Cancel")
    # The safe choice is the default: Enter on a prompt must not override a limit by reflex.
    box.setDefaultButton(reject)
    box.setEscapeButton(reject)
    future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def done(_result: int) -> None:
        if not future.done():
            future.set_result(box.clickedButton() is accept)
        box.deleteLater()

    box.finished.connect(done)
    box.open()
    try:
        return await future
    finally:
        if not future.done():
            box.reject()


class WindowPrompter:
    """The prompts the order desk needs, shown over the main window."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    async def precautions(self, order: str, breaches: Sequence[Breach]) -> bool:
        lines = "\n".join(f"• {b.message}" for b in breaches)
        return await ask(
            self.parent, "precautionPrompt", "Precautionary settings",
            f"<b>{html.escape(order)}</b><br><br>This order breaks "
            f"{'a precaution' if len(breaches) == 1 else 'precautions'}:",
            f"{lines}\n\nSend it anyway? The limits are in Settings → Precautions.",
            "Override and send", "overrideButton",
        )

    async def duplicate(self, order: str, reason: str) -> bool:
        reason = duplicate_reason(reason)  # its advice for scripts goes: the buttons here are the advice
        return await ask(
            self.parent, "duplicatePrompt", "Same order again?",
            f"<b>{html.escape(order)}</b><br><br>{html.escape(reason)}",
            "Send it again only if you mean a second order.", "Send anyway", "sendAnywayButton",
        )

    async def cancel_all(self, count: int) -> bool:
        return await ask(
            self.parent, "cancelAllPrompt", "Cancel all orders",
            f"Cancel all {count} working order{'s' if count != 1 else ''}?",
            "Orders already filled stay filled.", "Cancel all orders", "cancelAllButton",
            reject_label="Keep them",
        )

    async def modify(self, description: str) -> bool:
        return await ask(
            self.parent, "modifyPrompt", "Change the order", description, "The change goes to IB now.",
            "Change it", "modifyButton", icon=QMessageBox.Icon.Question, reject_label="Leave it",
        )
