"""The HTML report: a self-contained single-page viewer of every frame, its picture, graph, decision and facts."""
import base64
import dataclasses
import io
import re

import pytest
from PIL import Image

from perception.world import generate_episode, preset_config
from symbolic.reasoning.reasoner import Reasoner
from bridge.evaluation.metrics import evaluate_results
from bridge.evaluation.report import write_report
from bridge.experiment import PipelineConfig
from bridge.pipeline import Pipeline


@pytest.fixture(scope="module")
def run(traffic_reasoner, oracle_stream):
    return traffic_reasoner, oracle_stream("default", seed=8, num_frames=4)


def test_every_frame_has_its_picture_graph_decision_and_facts(run, tmp_path):
    reasoner, results = run
    metrics = evaluate_results(results, reasoner=reasoner)
    path = write_report(results, tmp_path / "r" / "report.html", metrics=metrics, title="a <test> run",
                        skipped=[("images/000009.png", "cannot decode image")])
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "a &lt;test&gt; run" in page
    sections = re.findall(r'<script type="text/html" class="frame-template" data-frame="(\d+)"><section class="frame[^"]*" '
                          r'id="frame-(\d+)"', page)
    assert sections == [("0", "0"), ("1", "1"), ("2", "2"), ("3", "3")]
    images = re.findall(r'<img class="frame-image" alt="[^"]*" width="(\d+)" height="(\d+)" '
                        r'src="data:image/jpeg;base64,([^"]+)"', page)
    assert len(images) == 4
    assert Image.open(io.BytesIO(base64.b64decode(images[0][2]))).size == (256, 256)   # shown at 512 x 512
    assert images[0][:2] == ("512", "512")
    assert page.count('class="scene-graph"') == 4 and page.count('class="ego"') == 4
    assert page.count("<h4>Why not</h4>") == 4 and "configs/rules/traffic.rules:" in page
    assert "decision agreement<b>100.0%</b>" in page and "unsafe decisions<b>0</b>" in page
    assert "images/000009.png" in page and "cannot decode image" in page
    assert 'src="http' not in page and "<link" not in page          # self-contained
    assert not list(path.parent.glob("*.tmp"))


def test_without_ground_truth_there_is_no_agreement(run, tmp_path):
    _, results = run
    page = write_report(results, tmp_path / "report.html").read_text()
    assert "decision agreement" not in page and "disagree" not in re.findall(r'<div class="tick[^"]*"', page)
    assert page.count('<section class="frame"') == 4


def test_ground_truth_metrics_are_computed_when_asked(run, tmp_path):
    reasoner, results = run
    page = write_report(results, tmp_path / "report.html", truth=True, reasoner=reasoner).read_text()
    assert "agrees with ground truth" in page


def test_a_routed_run_shows_each_frames_route_drawing_and_plan_timeline(tmp_path):
    from bridge.planning import RouteStage

    reasoner = Reasoner.from_file(PipelineConfig().rules_path())
    frames = generate_episode(preset_config("default"), seed=8, num_frames=3)
    results = list(Pipeline(reasoner=reasoner, oracle=True, planners=[RouteStage()]).stream(frames))
    page = write_report(results, tmp_path / "report.html").read_text()
    sections = page.split('<section class="frame')[1:]
    assert len(sections) == 3
    for result, section in zip(results, sections):
        assert section.count('<svg class="route"') == 1 and 'class="route-edge"' in section
        assert section.count('<div class="timeline">') == 1
        assert section.count('class="step"') == len(result.plan.actions)
        assert f"{result.route.nodes[0]} → {result.route.nodes[-1]}" in section


def test_the_viewer_has_a_slider_a_tick_per_frame_and_marks_the_flagged_frames(run, tmp_path):
    reasoner, results = run
    metrics = evaluate_results(results, reasoner=reasoner)
    metrics.frames[1] = dataclasses.replace(metrics.frames[1], truth_action="stop" if results[1].action != "stop" else "go")
    metrics.frames[2] = dataclasses.replace(metrics.frames[2], unsafe=["red_light[o3]"])
    page = write_report(results, tmp_path / "report.html", metrics=metrics).read_text()
    assert '<section id="viewer" data-num-frames="4"' in page
    assert '<input id="frame-slider" type="range" min="0" max="3" value="0"' in page
    assert all(f'id="{name}"' in page for name in ("play", "previous", "next", "speed", "frame-timeline", "stage"))
    ticks = re.findall(r'<div class="(tick[^"]*)" data-frame="(\d)"', page)
    assert [index for _, index in ticks] == ["0", "1", "2", "3"]
    assert [classes for classes, _ in ticks] == ["tick", "tick disagree flagged", "tick unsafe flagged", "tick"]
    assert 'class="frame disagree" id="frame-1"' in page and 'class="frame unsafe" id="frame-2"' in page
    assert "unsafe: breaks red_light[o3]" in page
    # the page stays one frame tall: the frames wait as text, the stage shows one
    assert page.count('class="frame-template"') == 4 and '<div id="stage">' in page and "<script>" in page


def test_numbers_are_rounded_and_facts_carry_their_tolerance(tmp_path):
    from symbolic.reasoning.decision import Decision, RuleInstance, WhyNot
    from symbolic.reasoning.facts import Fact
    from bridge.evaluation.report import decision_html, facts_html

    why = WhyNot("go", [RuleInstance("emergency_brake", ("o1",), "traffic.rules:44")],
                 ["same_lane(o1)", "ttc(o1) = 0.889702", "gap(o1) = 11.5885 ± 0.75"])
    text = decision_html(Decision("stop", why_not={"go": why}))
    assert "ttc(o1) = 0.89" in text and "gap(o1) = 11.59 ± 0.75" in text and "0.889702" not in text
    table = facts_html([Fact("gap", ("o1",), value=11.5885, tolerance=0.75), Fact("ego_speed", (), value=10.56561),
                        Fact("car", ("o1",), confidence=0.6)], mattered=["car(o1)"])
    assert "11.59 ± 0.75" in table and "10.57<" in table and '<tr class="mattered"><td><code>car(o1)' in table
    assert table.index("ego_speed") < table.index("gap(o1)")          # the ego's facts first


def test_the_latency_histogram_ends_at_the_99th_percentile():
    from bridge.evaluation.report import latency_histogram_svg

    svg = latency_histogram_svg([10.0 + i * 0.1 for i in range(200)] + [2400.0])
    assert 'class="over"' in svg and "1 frames over" in svg and "slowest 2400.0 ms" in svg
    top = float(re.search(r"&gt;(\d+)</text>", svg).group(1))
    assert top < 100                                                # the start-up outlier does not set the scale
    assert 'class="over"' not in latency_histogram_svg([10.0, 11.0, 12.0])
