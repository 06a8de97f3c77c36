"""Data-parallel training and sharded inference with ``torch.distributed``.

Launch with ``torchrun --nproc_per_node=N -m bridge train ...``: every
process trains on its own shard of each epoch (``DistributedSampler``),
gradients are averaged (``DistributedDataParallel``; gloo on CPU, nccl on
GPU), and only rank 0 logs and writes checkpoints. Outside ``torchrun``
everything here is a no-op for one process.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist


def init_from_environment() -> bool:
    """Join the process group that ``torchrun`` describes in the environment
    (``WORLD_SIZE`` > 1); returns whether this is a distributed run.

    Example:
        >>> import os; "WORLD_SIZE" in os.environ or init_from_environment()
        False
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend)
    return True


def shutdown(*, wait: bool = True) -> None:
    """Leave the process group, if joined; with ``wait``, once every process has reached this point.

    Without waiting, a process that leaves first can tear the group down
    under a peer still talking to it (gloo then aborts the peer). A process
    leaving because of an error should not wait (``wait=False``): its peers
    may never arrive.
    """
    if dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def rank_and_size() -> tuple[int, int]:
    """``(rank, world_size)`` of this process; ``(0, 1)`` when not distributed.

    Example:
        >>> rank_and_size()
        (0, 1)
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    """Whether this process logs and writes files (rank 0).

    Example:
        >>> is_main_process()
        True
    """
    return rank_and_size()[0] == 0


def local_device(device: torch.device) -> torch.device:
    """The CUDA device of this process's local rank, or ``device`` unchanged."""
    if device.type == "cuda" and dist.is_initialized():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def wrap(network: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``network`` wrapped in ``DistributedDataParallel`` when distributed."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return network
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(network, device_ids=device_ids)


def broadcast_buffers(network: torch.nn.Module) -> None:
    """Copy rank 0's buffers (batch-norm running statistics) to every
    process, so all ranks end training with identical state."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return
    for buffer in network.buffers():
        dist.broadcast(buffer.data, src=0)


def shard(items: list, *, rank: int | None = None, world_size: int | None = None) -> list:
    """This process's share of ``items`` (every ``world_size``-th, from ``rank``).

    Example:
        >>> shard(list(range(7)), rank=1, world_size=3)
        [1, 4]
    """
    if rank is None or world_size is None:
        rank, world_size = rank_and_size()
    return items[rank::world_size]


def gather_objects(value):
    """Every process's ``value``, in rank order (a one-item list when not distributed)."""
    rank, size = rank_and_size()
    if size == 1:
        return [value]
    gathered = [None] * size
    dist.all_gather_object(gathered, value)
    return gathered
