"""The report renders in a real headless Chromium: every frame shows, the page logs no errors."""
import json
import os
import select
import shutil
import subprocess
import time

import pytest

from bridge.evaluation.report import write_report

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe"]


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

        self.process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
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
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


def render(path, tmp_path):
    """Load ``path`` in headless Chromium; return (page facts, error messages)."""
    tools = DevTools(tmp_path / "profile")
    try:
        targets = tools.send("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        session = tools.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            tools.send(domain, session=session)
        tools.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        tools.wait_for("Page.loadEventFired", timeout=60.0)
        script = """JSON.stringify({
            sections: document.querySelectorAll('section.frame').length,
            shown: Array.from(document.querySelectorAll('section.frame')).filter(function (s) {
                var image = s.querySelector('img.frame-image');
                var box = s.getBoundingClientRect();
                return image && image.complete && image.naturalWidth > 0 && box.height > 0
                    && s.querySelector('svg.scene-graph') !== null; }).length,
            summaryImages: Array.from(document.querySelectorAll('.plots img')).filter(function (i) {
                return i.complete && i.naturalWidth > 0; }).length,
            button: document.getElementById('only-disagreements') !== null})"""
        value = tools.send("Runtime.evaluate", {"expression": script, "returnByValue": True}, session=session)
        facts = json.loads(value["result"]["value"])
        click = ("(function () { var b = document.getElementById('only-disagreements'); if (b) { b.click(); }"
                 " return document.querySelectorAll('section.frame.hidden').length; })()")
        clicked = tools.send("Runtime.evaluate", {"expression": click, "returnByValue": True}, session=session)
        facts["hidden_after_click"] = clicked["result"]["value"]
        time.sleep(0.2)
        tools.send("Runtime.evaluate", {"expression": "1"}, session=session)   # flush pending events
        errors = []
        for event in tools.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append(f"{details.get('text', '')} {details.get('exception', {}).get('description', '')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                errors.append(params["entry"].get("text", ""))
        return facts, errors
    finally:
        tools.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory, traffic_reasoner, oracle_stream):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/install-browser.sh installs it; it needs root and apt)")
    results = oracle_stream("default", seed=4, num_frames=6)
    path = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(results, path, truth=True, reasoner=traffic_reasoner, title="browser test"), len(results)


def test_every_frame_shows_and_the_page_logs_no_errors(report, tmp_path):
    path, num_frames = report
    facts, errors = render(path, tmp_path)
    assert errors == []
    assert facts["sections"] == num_frames and facts["shown"] == num_frames
    assert facts["summaryImages"] == 1 and facts["button"] is True
    assert facts["hidden_after_click"] == num_frames        # the oracle agrees everywhere: all hidden


def test_the_checker_sees_a_broken_page(tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/install-browser.sh installs it; it needs root and apt)")
    broken = tmp_path / "broken.html"
    broken.write_text('<html><body><section class="frame"><img class="frame-image" src="data:image/png;base64,AAAA">'
                      '</section><script>undefinedFunction();</script></body></html>')
    facts, errors = render(broken, tmp_path)
    assert facts["sections"] == 1 and facts["shown"] == 0
    assert any("undefinedFunction" in e for e in errors)
