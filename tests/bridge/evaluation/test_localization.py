"""Localisation errors: zero for true boxes, a shifted perception measured."""
import dataclasses

import pytest

from perception.world import generate_episode, preset_config
from bridge.evaluation.localization import LocalizationErrors, localization_errors
from bridge.perception_stage import OraclePerception
from bridge.pipeline import Pipeline


def test_localization_errors_are_zero_for_true_boxes_and_measure_a_shifted_detector():
    frames = generate_episode(preset_config("easy"), seed=3, num_frames=6)
    oracle = Pipeline.from_config("configs/drive.yaml", oracle=True)
    exact = localization_errors(oracle, frames)
    assert exact.box_errors and max(exact.box_errors) == 0.0
    assert exact.closing_errors and 0.0 <= exact.coverage() <= 1.0
    assert exact.error_spreads and max(exact.error_spreads) == 0.0
    assert exact.num_unknown == 0   # true detections carry their motion: known at each track's first frame

    class NoMotion:   # true boxes without their velocities: the tracker must fit them
        def detect(self, frames, *, precision="auto"):
            return [dataclasses.replace(d, velocities=None) for d in OraclePerception().detect(frames)]

    fitted = localization_errors(Pipeline(perception=NoMotion(), postprocess=oracle.postprocess,
                                          config=oracle.config), frames)
    assert fitted.num_unknown > 0   # each track's first frame

    class Shifted:   # a perception stage: true boxes moved 2 px (0.4 m at 0.2 m per pixel) to the right
        def detect(self, frames, *, precision="auto"):
            shifted = []
            for d in OraclePerception().detect(frames):
                d.boxes[:, [0, 2]] += 2.0
                shifted.append(d)
            return shifted

    errors = localization_errors(Pipeline(perception=Shifted(), postprocess=oracle.postprocess,
                                          config=oracle.config), frames)
    metres = 2.0 * frames[0].calibration.metres_per_pixel
    assert errors.box_error(50.0) == pytest.approx(metres, abs=1e-4)
    # a constant offset does not spread: it leaves every velocity fit alone
    assert errors.error_spreads and max(errors.error_spreads) == pytest.approx(0.0, abs=1e-4)
    assert "box coordinate (m)" in errors.table() and "error spread (m)" in errors.table()
    assert LocalizationErrors([], [], []).coverage() == 1.0 and LocalizationErrors([], [], []).box_error() == 0.0
