"""Headless Chromium for the tests, driven over the DevTools protocol (a websocket; no Playwright).

    with Chromium() as browser:
        page = browser.open(path)                    # a file, loaded in a new tab
        page.wait_for("document.querySelector('svg')", frame=True)  # a JS expression, in the iframe
        page.evaluate("document.title")              # in the page itself
        png = page.screenshot()

Chromium is Debian's `chromium` (`make chromium` installs it); `chromium_path()` finds it.
A sandboxed iframe runs in a process of its own: the page's session auto-attaches to it, so an
expression can be evaluated in the view of an MCP Apps host page as in the page itself.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect


def chromium_path() -> str | None:
    return os.environ.get("SNOWMCP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    def __init__(self, executable: str | None = None) -> None:
        self.executable = executable or chromium_path()
        if self.executable is None:
            raise RuntimeError("no chromium on PATH: run `make chromium`")
        self._ids = itertools.count(1)

    def __enter__(self) -> Chromium:
        self._stack = contextlib.ExitStack()
        self._profile = tempfile.TemporaryDirectory(prefix="snowmcp-chromium-")
        self._process = subprocess.Popen(
            [self.executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
             "--remote-debugging-port=0", f"--user-data-dir={self._profile.name}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        url = self._devtools_url()
        self._socket: ClientConnection = self._stack.enter_context(connect(url, max_size=64 * 2**20, open_timeout=20))
        self._events: list[dict[str, Any]] = []
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._profile.cleanup()

    def _devtools_url(self) -> str:
        assert self._process.stderr is not None
        deadline = time.monotonic() + 30
        for line in self._process.stderr:
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                return found.group(1)
            if time.monotonic() > deadline:
                break
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30) -> dict[str, Any]:
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self._socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def events(self, method: str) -> list[dict[str, Any]]:
        return [e for e in self._events if e.get("method") == method]

    def open(self, path: Path, *, width: int = 1000, height: int = 700) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.send("Page.enable")
        page.send("Runtime.enable")
        page.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": True})
        page.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        page.send("Page.navigate", {"url": path.resolve().as_uri()})
        return page


class Page:
    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser, self.session = browser, session

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, session or self.session)

    def evaluate(self, expression: str, *, frame: bool = False) -> Any:
        """The JSON value of `expression` in the page, or (`frame=True`) in its sandboxed iframe."""
        session = self._frame_session() if frame else self.session
        return self._value(self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                     session=session))

    def _frame_session(self) -> str:
        """The session of the page's iframe: a sandboxed (opaque-origin) frame runs in a process of
        its own, and the page's session attached to it by itself (Target.setAutoAttach)."""
        self.send("Runtime.evaluate", {"expression": "0"})  # a round trip reads the events sent before it
        frames = [e["params"]["sessionId"] for e in self.browser.events("Target.attachedToTarget")
                  if e.get("sessionId") == self.session and e["params"]["targetInfo"]["type"] == "iframe"]
        if not frames:
            raise RuntimeError("the page has no attached iframe yet")
        return frames[-1]

    @staticmethod
    def _value(result: dict[str, Any]) -> Any:
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"].get("exception", {}).get("description", "exception"))
        return result["result"].get("value")

    def wait_for(self, expression: str, *, frame: bool = False, timeout: float = 15) -> Any:
        """The first truthy value of `expression`, evaluated every 0.1 s."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.evaluate(expression, frame=frame)
            except RuntimeError as exc:
                last = exc
            if last and not isinstance(last, RuntimeError):
                return last
            time.sleep(0.1)
        raise TimeoutError(f"{expression!r} still {last!r} after {timeout} s")

    def screenshot(self) -> bytes:
        return base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])

