"""Open a page in headless Chromium: the report viewer's browser test, its load-time benchmark, screenshots.

A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``
(no network port, no extra package): :func:`open_page` starts Chromium on a
file, waits for its load event and hands back a :class:`Page` that evaluates
JavaScript, presses keys, takes screenshots and collects console errors.
"""
from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--remote-debugging-pipe"]


def find_chromium() -> str | None:
    """The Chromium executable on ``PATH`` (``chromium`` or ``chromium-browser``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class DevTools:
    """A minimal Chrome DevTools Protocol client over --remote-debugging-pipe (fds 3 and 4)."""

    def __init__(self, user_data_dir):
        to_browser_read, self._write = os.pipe()
        self._read, from_browser_write = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4. Python opens files
        # non-inheritable, so close_fds=False passes only the two wired in the child.
        high_in, high_out = os.dup(to_browser_read), os.dup(from_browser_write)
        high_in, high_out = fcntl_dup_high(high_in), fcntl_dup_high(high_out)

        def wire():
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        chromium = find_chromium()
        if chromium is None:
            raise FileNotFoundError("chromium is not installed (scripts/install-browser.sh installs it)")
        self.process = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, close_fds=False, preexec_fn=wire)
        for fd in (to_browser_read, from_browser_write, high_in, high_out):
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self.events = []

    def send(self, method, params=None, session=None, timeout=30.0):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method, timeout=30.0):
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _receive(self, deadline):
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._read], [], [], remaining)
            if ready:
                chunk = os.read(self._read, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self):
        try:
            self.send("Browser.close", timeout=5.0)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        os.close(self._read)


def fcntl_dup_high(fd):
    """A copy of ``fd`` numbered 10 or above (so that wiring fds 3 and 4 in the child cannot clobber it)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class Page:
    """A page loaded in headless Chromium: evaluate JavaScript, press keys, collect console errors."""

    def __init__(self, tools, session):
        self.tools, self.session = tools, session
        self.load_ms = 0.0

    def evaluate(self, expression):
        reply = self.tools.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                     "awaitPromise": True}, session=self.session)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def press(self, key, code=None, key_code=0):
        for kind in ("keyDown", "keyUp"):
            self.tools.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": code or key,
                                                       "windowsVirtualKeyCode": key_code}, session=self.session)

    def screenshot(self, path) -> Path:
        """Save the window as a PNG file."""
        data = self.tools.send("Page.captureScreenshot", {"format": "png"}, session=self.session)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    def errors(self):
        time.sleep(0.2)
        self.evaluate("1")   # flush pending events
        found = []
        for event in self.tools.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(f"{details.get('text', '')} {details.get('exception', {}).get('description', '')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
                found.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
                found.append(params["entry"].get("text", ""))
        return found


@contextlib.contextmanager
def open_page(path, profile, *, width: int = 1440, height: int = 1000, fragment: str = ""):
    """``path`` loaded in headless Chromium (a ``width`` x ``height`` window) as a :class:`Page`.

    Args:
        path: the HTML file.
        profile: a folder for the browser's profile (created).
        width, height: the window, CSS pixels.
        fragment: appended to the file's URL, e.g. ``"#frame=3"``.

    The page's ``load_ms`` is the time from the navigation to the load event.
    """
    tools = DevTools(Path(profile))
    try:
        targets = tools.send("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        session = tools.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            tools.send(domain, session=session)
        tools.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                          "mobile": False}, session=session)
        start = time.perf_counter()
        tools.send("Page.navigate", {"url": Path(path).resolve().as_uri() + fragment}, session=session)
        tools.wait_for("Page.loadEventFired", timeout=120.0)
        page = Page(tools, session)
        page.load_ms = (time.perf_counter() - start) * 1000
        yield page
    finally:
        tools.close()
