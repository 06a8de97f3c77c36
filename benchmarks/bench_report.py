"""The report viewer at scale: its size, how long writing it takes, and its load and step times in headless Chromium.

    python -m benchmarks report [--frames 40] [--detector] [--screenshots DIR]

Streams one generated episode (configs/drive.yaml's world, seed 0) through
the pipeline with a route planner (ground-truth perception by default, the
shipped detector with ``--detector``), writes ``report.html`` and opens it
in headless Chromium (1440 x 1000): the load time is the browser's own
navigation timing (``loadEventEnd``), the first frame counts once its image is
decoded, and a step is one ArrowRight key press until the next frame's image
is decoded (median of 20). It also prints the per-frame latency the pipeline
measured (after its warm-up): p50, p99 and frame 0. With ``--screenshots DIR``
it saves the viewer at the first flagged frame (else frame 1) and the summary
as ``DIR/report-viewer.png`` and ``DIR/report-summary.png``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from perception.world import generate_episode

from bridge.evaluation.browser import find_chromium, open_page
from bridge.evaluation.metrics import evaluate_results, latency_summary, timed_stream
from bridge.evaluation.report import perception_name, write_report
from bridge.experiment import load_config
from bridge.pipeline import Pipeline
from bridge.planning import RouteStage

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "drive.yaml"

SHOWN = """new Promise(function (done) {
    function check() {
        var image = document.querySelector('#stage section.frame img.frame-image');
        if (image && image.complete && image.naturalWidth > 0) {
            done(document.querySelector('#stage section.frame').id);
        } else { requestAnimationFrame(check); }
    }
    check();
})"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_report", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40, help="frames in the episode (default: 40)")
    parser.add_argument("--detector", action="store_true", help="the shipped detector instead of the ground truth")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--screenshots", type=Path, metavar="DIR", help="save PNG screenshots of the viewer here")
    parser.add_argument("--out", type=Path, metavar="DIR", help="keep report.html here (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.frames < 1:
        parser.error(f"--frames must be a positive integer. Received: --frames {args.frames}")
    config = load_config(CONFIG)
    pipeline = Pipeline.from_config(config, oracle=not args.detector, planners=[RouteStage()])
    frames = generate_episode(config.world, seed=args.seed, num_frames=args.frames)
    results, wall_s = timed_stream(pipeline, frames)
    metrics = evaluate_results(results, reasoner=pipeline.reasoner, wall_s=wall_s)
    latency = latency_summary(r.timings_ms for r in results)["total"]
    print(f"pipeline: {len(results)} frames, {perception_name(oracle=not args.detector)}; total ms per frame "
          f"p50 {latency['p50']:.1f}, p99 {latency['p99']:.1f}, frame 0 {results[0].timings_ms['total']:.1f}")
    out = args.out or Path(tempfile.mkdtemp())
    start = time.perf_counter()
    path = write_report(results, out / "report.html", metrics=metrics,
                        title=f"nesy report: {len(results)} frames, seed {args.seed}, "
                              f"{perception_name(oracle=not args.detector)}")
    write_s = time.perf_counter() - start
    print(f"report: {path.stat().st_size / 1e6:.2f} MB ({path.stat().st_size / len(results) / 1e3:.0f} kB per frame), "
          f"written in {write_s:.2f} s")
    if find_chromium() is None:
        print("chromium is not installed: no load timing (scripts/install-browser.sh installs it)")
        return 0
    with tempfile.TemporaryDirectory() as profile, open_page(path, profile) as page:
        page.evaluate(SHOWN)
        timing = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0].toJSON())")
        navigation = json.loads(timing)
        first_ms = page.evaluate("performance.now()")
        steps = []
        for _ in range(min(20, len(results) - 1)):
            began = time.perf_counter()
            page.press("ArrowRight", key_code=39)
            page.evaluate(SHOWN)
            steps.append((time.perf_counter() - began) * 1000)
        errors = page.errors()
        print(f"chromium: DOM ready {navigation['domContentLoadedEventEnd']:.0f} ms, load {navigation['loadEventEnd']:.0f} ms, "
              f"first frame shown by {first_ms:.0f} ms; a step (key press to the next frame's image) "
              f"median {statistics.median(steps) if steps else 0:.0f} ms; console errors: {len(errors)}")
        for error in errors:
            print("  ", error)
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
        flagged = [i for i, f in enumerate(metrics.frames) if not f.agrees or f.unsafe]
        shown = flagged[0] if flagged else min(1, len(results) - 1)
        with tempfile.TemporaryDirectory() as profile, \
                open_page(path, profile, width=1440, height=940, fragment=f"#frame={shown}") as page:
            page.evaluate(SHOWN)
            page.screenshot(args.screenshots / "report-viewer.png")
            page.evaluate("document.getElementById('summary').scrollIntoView()")
            page.screenshot(args.screenshots / "report-summary.png")
        print(f"screenshots: {args.screenshots / 'report-viewer.png'} (frame {shown}), "
              f"{args.screenshots / 'report-summary.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
