"""Fixtures for the detector tests (the helpers they build on are in detector_helpers.py)."""
import pytest


@pytest.fixture(scope="session")
def tiny_detector():
    """A detector of the smallest width trained for one epoch on 8 rectangle scenes: weights that are not
    random, for tests of saving, loading and exporting. Shared: do not fit or evaluate it again."""
    from detector_helpers import quick_training, rectangle_scenes, small_detector

    return small_detector().fit(rectangle_scenes(8), epochs=1, training=quick_training(), verbose=False)
