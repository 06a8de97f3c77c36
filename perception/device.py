"""Where the detector runs and at what precision.

The one place that chooses the device (:func:`resolve_device`), resolves a
precision name to an autocast type (:func:`autocast_dtype`, with
``"auto"``: float16 on CUDA, bfloat16 on CPUs with native bfloat16
arithmetic), picks the training's mixed-precision type
(:func:`mixed_precision_dtype`) and opens the autocast context
(:func:`autocast`).
"""
from __future__ import annotations

import contextlib

import torch

PRECISIONS = ("auto", "float32", "bfloat16", "float16")


def cpu_supports_bfloat16() -> bool:
    """Whether this CPU has native bfloat16 arithmetic (oneDNN), where
    bfloat16 autocast is about 2x faster than float32.

    Example:
        >>> cpu_supports_bfloat16() in (True, False)
        True
    """
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_device(name: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("`device` is 'cuda' but no CUDA device is available. Received: device='cuda'")
    return torch.device(name)


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast type of inference at ``precision`` on ``device``; None means float32.

    Args:
        precision: one of :data:`PRECISIONS`; ``"auto"`` is float16 on CUDA,
            bfloat16 on CPUs that support it, else float32.
        device: where the network runs.

    Example:
        >>> autocast_dtype("float32", torch.device("cpu")) is None, autocast_dtype("float16", torch.device("cpu"))
        (True, torch.float16)
        >>> autocast_dtype("auto", torch.device("cuda"))
        torch.float16
    """
    if precision == "float32":
        return None
    if precision == "bfloat16":
        return torch.bfloat16
    if precision == "float16":
        return torch.float16
    if device.type == "cuda":
        return torch.float16
    return torch.bfloat16 if cpu_supports_bfloat16() else None


def mixed_precision_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast type training uses on ``device``: float16 on CUDA,
    bfloat16 on CPUs with native bfloat16 arithmetic, else None (float32).

    Example:
        >>> mixed_precision_dtype(torch.device("cpu")) in (torch.bfloat16, None)
        True
    """
    if device.type == "cuda":
        return torch.float16
    return torch.bfloat16 if device.type == "cpu" and cpu_supports_bfloat16() else None


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """The autocast context for ``dtype`` on ``device`` (a no-op for None: float32).

    Example:
        >>> with autocast(torch.device("cpu"), None):
        ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
        torch.float32
    """
    return torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None)
