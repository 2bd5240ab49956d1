"""A second ibticket on the same client id and order log folder: said in a dialog and on stderr, then the
app ends (app.py exits with EXIT_IN_USE). Running on would trade nothing: it cannot connect as that client."""

from __future__ import annotations

import asyncio
import html
import shlex
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

EXIT_IN_USE = 3


@dataclass(frozen=True)
class InUse:
    title: str
    text: str
    detail: str
    command: str

    def __str__(self) -> str:
        return f"ibticket: {self.text}\n{self.detail}\n\n    {self.command}"

    def detail_html(self) -> str:
        """The detail for the dialog, the command on a line of its own that never wraps inside an option."""
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in self.detail.split("\n\n"))
        return f"{paragraphs}<pre>{html.escape(self.command)}</pre>"


def in_use(client_id: int, folder: Path, pid: int | None, data_dir: Path | None) -> InUse:
    """The words for a refused start: which client id and folder are taken, by whom, how to run a second."""
    who = f"Another ibticket (process {pid})" if pid else "Another ibticket"
    other = client_id + 1
    command = ["ibticket", "--client-id", str(other), "--log-dir", str(folder.with_name(f"{folder.name}-{other}"))]
    if data_dir is not None:  # the simulated account lives in a folder too: a second one needs its own
        command += ["--data-dir", str(data_dir.with_name(f"{data_dir.name}-{other}"))]
    return InUse(
        "ibticket is already running",
        f"{who} uses client id {client_id} with the order log folder {folder}.",
        "IB reports an order's fills and cancels only to the client id that placed it, so only one ibticket may "
        "use a client id and its order log.\n\nClose the other one, or start this one with a client id and "
        "folders of its own:",
        shlex.join(command),
    )


async def show_in_use(parent: QWidget | None, words: InUse) -> None:
    """Show the refusal and wait until it is closed."""
    box = QMessageBox(QMessageBox.Icon.Critical, words.title, words.text, QMessageBox.StandardButton.Close, parent)
    box.setObjectName("inUseDialog")
    box.setInformativeText(words.detail_html())
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def done(_result: int) -> None:
        if not closed.done():
            closed.set_result(None)
        box.deleteLater()

    box.finished.connect(done)
    box.open()  # never exec() inside the loop (see prompts.py)
    await closed
