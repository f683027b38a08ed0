"""A progress bar on the terminal for a long tool call, drawn from its MCP progress notifications.

Drawn only when the stream is a terminal (a pipe or a file gets nothing): one line, rewritten in
place (`\\r`), cleared when the call ends. A notification without a total shows a count.
"""

from __future__ import annotations

import shutil
from typing import TextIO

WIDTH = 24


class ProgressBar:
    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream, self.label = stream, label
        self.enabled = _is_terminal(stream)
        self._drawn = False

    async def __call__(self, done: float, total: float | None, message: str | None) -> None:
        if not self.enabled:
            return
        self.stream.write("\r" + self.line(done, total, message) + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def line(self, done: float, total: float | None, message: str | None) -> str:
        if total:
            share = min(1.0, max(0.0, done / total))
            filled = round(share * WIDTH)
            bar = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {share:4.0%}"
        else:
            bar = f"[{done:g}]"
        text = f"{self.label} {bar}" + (f" {message}" if message else "")
        return text[: shutil.get_terminal_size((100, 20)).columns - 1]

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
