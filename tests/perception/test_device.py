"""The device and precision helper: device choice, autocast types, the autocast context."""
import pytest
import torch

from perception.device import (PRECISIONS, autocast, autocast_dtype, cpu_supports_bfloat16, mixed_precision_dtype,
                               resolve_device)

CPU = torch.device("cpu")
CUDA = torch.device("cuda")


def test_named_precisions_resolve_the_same_on_every_device():
    for device in (CPU, CUDA):
        assert autocast_dtype("float32", device) is None
        assert autocast_dtype("bfloat16", device) is torch.bfloat16
        assert autocast_dtype("float16", device) is torch.float16
    assert PRECISIONS == ("auto", "float32", "bfloat16", "float16")


def test_auto_precision_follows_the_hardware():
    assert autocast_dtype("auto", CUDA) is torch.float16
    assert autocast_dtype("auto", CPU) is (torch.bfloat16 if cpu_supports_bfloat16() else None)
    assert mixed_precision_dtype(CUDA) is torch.float16
    assert mixed_precision_dtype(CPU) is (torch.bfloat16 if cpu_supports_bfloat16() else None)


def test_resolve_device():
    assert resolve_device("cpu") == CPU
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device is available. Received: device='cuda'"):
            resolve_device("cuda")


def test_autocast_runs_at_the_given_type():
    with autocast(CPU, torch.bfloat16):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype is torch.bfloat16
    with autocast(CPU, None):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype is torch.float32
