"""The HTML report: one self-contained page with every frame, its picture, graph, decision and facts."""
import base64
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
    sections = re.findall(r'<section class="frame[^"]*" id="frame-(\d+)"', page)
    assert sections == ["0", "1", "2", "3"]
    images = re.findall(r'<img class="frame-image" alt="[^"]*" src="data:image/jpeg;base64,([^"]+)"', page)
    assert len(images) == 4
    assert Image.open(io.BytesIO(base64.b64decode(images[0]))).size == (512, 512)
    assert page.count('class="scene-graph"') == 4
    assert page.count("<h4>Why not</h4>") == 4 and "configs/rules/traffic.rules:" in page
    assert "decision agreement<b>100.0%</b>" in page and "unsafe decisions<b>0</b>" in page
    assert "images/000009.png" in page and "cannot decode image" in page
    assert 'src="http' not in page and "<link" not in page          # self-contained
    assert not list(path.parent.glob("*.tmp"))


def test_without_ground_truth_there_is_no_agreement(run, tmp_path):
    _, results = run
    page = write_report(results, tmp_path / "report.html").read_text()
    assert "decision agreement" not in page and 'id="only-disagreements"' not in page
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
