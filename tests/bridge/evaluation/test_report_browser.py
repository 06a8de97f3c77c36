"""The report viewer in a real headless Chromium: one frame shows, the keyboard steps, the page logs no errors."""
import json
import time

import pytest

from bridge.evaluation.browser import find_chromium, open_page
from bridge.evaluation.report import write_report

pytestmark = pytest.mark.browser
CHROMIUM = find_chromium()


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
    with open_page(path, tmp_path / "profile") as page:
        shown = visible(page)
        assert shown["shown"] == 1 and shown["id"] == "frame-0" and shown["label"] == f"frame 1 / {num_frames}"
        assert shown["image"] and shown["graph"] and shown["ego"] and shown["currentTicks"] == 1
        assert page.evaluate("document.querySelectorAll('script.frame-template').length") == num_frames
        assert page.evaluate("document.querySelectorAll('#frame-timeline .tick').length") == num_frames
        assert page.evaluate("document.getElementById('frame-slider').max") == str(num_frames - 1)
        assert page.evaluate("document.querySelectorAll('svg.latency').length") == 1
        # one frame fits the window: the page is not thousands of pixels tall
        assert page.evaluate("document.getElementById('viewer').getBoundingClientRect().height") < 1400
        assert page.errors() == []


def test_the_keyboard_steps_through_the_frames(report, tmp_path):
    path, num_frames = report
    with open_page(path, tmp_path / "profile") as page:
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
    with open_page(broken, tmp_path / "profile") as page:
        shown = visible(page)
        page.press("ArrowRight", key_code=39)
        assert shown["shown"] == 1 and not shown["image"] and visible(page)["id"] == "frame-0"   # keys do nothing
        assert any("undefinedFunction" in e for e in page.errors())
