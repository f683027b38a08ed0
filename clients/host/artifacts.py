"""What a tool call leaves besides text: its images and, for a tool with an MCP Apps view, the view
with the result in it (a page a browser opens, see app_pages.py), saved in one output folder.

    artifacts = Artifacts(Path("snowmcp-output"))
    paths = await artifacts.save(host, "analytics__time_series", arguments, outcome)

Files are named by the session's start, the call's number and the tool
(`20261202-171500-03-analytics__histogram.png`, `.html`), so sessions never overwrite each other;
nothing is written for a call that failed or left neither.
"""

from __future__ import annotations

import base64
import binascii
import logging
import mimetypes
import time
from pathlib import Path
from typing import Any

from mcp.types import ImageContent

from snowmcp.clients.host.app_pages import app_page
from snowmcp.clients.host.connection import CallOutcome
from snowmcp.clients.host.host import Host

log = logging.getLogger("snowmcp.host")


class Artifacts:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._calls = 0
        self._session = time.strftime("%Y%m%d-%H%M%S")

    async def save(self, host: Host, name: str, arguments: dict[str, Any], outcome: CallOutcome) -> list[Path]:
        """Save the images and the app page of one call; their paths."""
        result = outcome.result
        if outcome.is_error or result is None:
            return []
        tool = host.resolve(name)
        images = [block for block in result.content if isinstance(block, ImageContent)]
        view = await host.read_app(tool) if tool is not None else None
        if not images and view is None:
            return []
        self._calls += 1
        stem = f"{self._session}-{self._calls:02d}-{name}"
        self.folder.mkdir(parents=True, exist_ok=True)
        saved = []
        for number, image in enumerate(images, start=1):
            path = self._write_image(image, f"{stem}-{number}" if len(images) > 1 else stem)
            if path is not None:
                saved.append(path)
        if view is not None and tool is not None:
            recorded = result.model_dump(mode="json", by_alias=True, exclude_none=True)
            recorded["content"] = [b for b in recorded.get("content", []) if b.get("type") != "image"]  # saved apart
            page = app_page(view, tool=tool.definition or {"name": tool.tool}, arguments=arguments, result=recorded,
                            title=f"{name} {_brief(arguments)}")
            path = self.folder / f"{stem}.html"
            path.write_text(page, encoding="utf-8")
            saved.append(path)
        return saved

    def _write_image(self, image: ImageContent, stem: str) -> Path | None:
        try:
            data = base64.b64decode(image.data, validate=True)
        except (binascii.Error, ValueError):
            log.warning("an image of %s is not valid base64: not saved", stem)
            return None
        extension = mimetypes.guess_extension(image.mime_type) or ".bin"
        path = self.folder / f"{stem}{extension}"
        path.write_bytes(data)
        return path


def _brief(arguments: dict[str, Any]) -> str:
    table = arguments.get("table")
    return f"({table})" if isinstance(table, str) else ""
