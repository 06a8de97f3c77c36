"""The report viewer in a real headless Chromium: one frame shows, the keyboard steps, the page logs no errors."""
import contextlib
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


class Page:
    """A page loaded in headless Chromium: evaluate JavaScript, press keys, collect console errors."""

    def __init__(self, tools, session):
        self.tools, self.session = tools, session

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
def open_page(path, tmp_path):
    """``path`` loaded in headless Chromium (1440 x 1000) as a :class:`Page`."""
    tools = DevTools(tmp_path / "profile")
    try:
        targets = tools.send("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        session = tools.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            tools.send(domain, session=session)
        tools.send("Emulation.setDeviceMetricsOverride", {"width": 1440, "height": 1000, "deviceScaleFactor": 1,
                                                          "mobile": False}, session=session)
        tools.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        tools.wait_for("Page.loadEventFired", timeout=60.0)
        yield Page(tools, session)
    finally:
        tools.close()


VISIBLE = """new Promise(function (done) { setTimeout(function () {
    var sections = document.querySelectorAll('#stage section.frame');
    var section = sections[0], image = section && section.querySelector('img.frame-image');
    var box = section ? section.getBoundingClientRect() : {height: 0};
    done(JSON.stringify({
        shown: sections.length,
        id: section ? section.id : null,
        current: document.getElementById('viewer').getAttribute('data-current'),
        slider: document.getElementById('frame-slider').value,
        label: document.getElementById('frame-label').textContent,
        image: !!(image && image.complete && image.naturalWidth > 0 && box.height > 0),
        graph: !!(section && section.querySelector('svg.scene-graph')),
        ego: !!(section && section.querySelector('svg.overlay .ego')),
        currentTicks: document.querySelectorAll('#frame-timeline .tick.current').length,
        play: document.getElementById('play').textContent}));
}, 150); })"""


def visible(page):
    return json.loads(page.evaluate(VISIBLE))


@pytest.fixture(scope="module")
def report(tmp_path_factory, traffic_reasoner, oracle_stream):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/install-browser.sh installs it; it needs root and apt)")
    results = oracle_stream("default", seed=4, num_frames=6)
    path = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(results, path, truth=True, reasoner=traffic_reasoner, title="browser test"), len(results)


def test_the_viewer_shows_one_frame_and_the_page_logs_no_errors(report, tmp_path):
    path, num_frames = report
    with open_page(path, tmp_path) as page:
        shown = visible(page)
        assert shown["shown"] == 1 and shown["id"] == "frame-0" and shown["label"] == f"frame 1 / {num_frames}"
        assert shown["image"] and shown["graph"] and shown["ego"] and shown["currentTicks"] == 1
        assert page.evaluate("document.querySelectorAll('template.frame-template').length") == num_frames
        assert page.evaluate("document.querySelectorAll('#frame-timeline .tick').length") == num_frames
        assert page.evaluate("document.getElementById('frame-slider').max") == str(num_frames - 1)
        assert page.evaluate("document.querySelectorAll('svg.latency').length") == 1
        # one frame fits the window: the page is not thousands of pixels tall
        assert page.evaluate("document.getElementById('viewer').getBoundingClientRect().height") < 1400
        assert page.errors() == []


def test_the_keyboard_steps_through_the_frames(report, tmp_path):
    path, num_frames = report
    with open_page(path, tmp_path) as page:
        page.press("ArrowRight", key_code=39)
        assert visible(page)["id"] == "frame-1"
        page.press("ArrowRight", key_code=39)
        after = visible(page)
        assert (after["id"], after["current"], after["slider"]) == ("frame-2", "2", "2") and after["image"]
        page.press("ArrowLeft", key_code=37)
        assert visible(page)["id"] == "frame-1"
        page.press("End", key_code=35)
        end = visible(page)
        assert end["id"] == f"frame-{num_frames - 1}" and end["label"] == f"frame {num_frames} / {num_frames}"
        page.press("ArrowRight", key_code=39)                       # past the end: stays
        assert visible(page)["id"] == f"frame-{num_frames - 1}"
        page.press("Home", key_code=36)
        assert visible(page)["id"] == "frame-0"
        page.press(" ", code="Space", key_code=32)                  # play ...
        time.sleep(0.7)                                            # 4 frames/s
        playing = visible(page)
        assert playing["play"].endswith("pause") and int(playing["current"]) >= 1
        page.press(" ", code="Space", key_code=32)                  # ... and pause
        paused = visible(page)["current"]
        time.sleep(0.6)
        assert visible(page)["current"] == paused and visible(page)["play"].endswith("play")
        page.evaluate("document.querySelector('#frame-timeline .tick[data-frame=\"3\"]').click()")
        assert visible(page)["id"] == "frame-3"
        assert page.errors() == []


def test_the_checker_sees_a_broken_page(tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/install-browser.sh installs it; it needs root and apt)")
    broken = tmp_path / "broken.html"
    broken.write_text('<html><body><section id="viewer" data-current="0"><input id="frame-slider"><output '
                      'id="frame-label"></output><button id="play"></button><div id="stage"><section class="frame" '
                      'id="frame-0"><img class="frame-image" src="data:image/png;base64,AAAA"></section></div>'
                      '</section><script>undefinedFunction();</script></body></html>')
    with open_page(broken, tmp_path) as page:
        shown = visible(page)
        page.press("ArrowRight", key_code=39)
        assert shown["shown"] == 1 and not shown["image"] and visible(page)["id"] == "frame-0"   # keys do nothing
        assert any("undefinedFunction" in e for e in page.errors())
