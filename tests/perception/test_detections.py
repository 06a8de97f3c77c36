"""Detections: the optional per-object fields stay aligned with the boxes."""
import pytest
import torch

from perception.detections import Detections


def test_velocity_uncertainty_is_kept_aligned_by_select_and_to():
    d = Detections(torch.zeros(3, 4), torch.tensor([0, 0, 0]), torch.tensor([0.9, 0.2, 0.8]), ("car",),
                   velocities=torch.tensor([[1.0, 0.0], [2.0, 0.0], [float("nan")] * 2], dtype=torch.float64),
                   velocity_uncertainty=torch.tensor([[0.1, 0.2], [0.3, 0.4], [float("nan")] * 2], dtype=torch.float64))
    kept = d.select(d.scores > 0.5).to("cpu")
    assert kept.velocities[0].tolist() == [1.0, 0.0] and kept.velocity_uncertainty[0].tolist() == [0.1, 0.2]
    assert kept.velocity_uncertainty[1].isnan().all()


def test_a_misshapen_velocity_uncertainty_is_refused():
    with pytest.raises(ValueError, match=r"`velocity_uncertainty` must have shape \(1, 2\). Received shape \(1,\)"):
        Detections(torch.zeros(1, 4), torch.tensor([0]), torch.tensor([0.5]), ("car",),
                   velocity_uncertainty=torch.zeros(1))
