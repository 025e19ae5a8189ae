"""DDP helpers: the same code runs as one process or under ``torchrun`` (gloo/nccl)."""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn
from uqa_data.distributed import init_process_group
from uqa_data.distributed import is_distributed as _dist
from uqa_data.errors import UqaInputError

init = init_process_group
"""Join the process group when launched by torchrun; returns ``(rank, world_size)``."""


def device(choice: str) -> torch.device:
    """``auto``: this rank's GPU when present, else CPU."""
    if choice == "cpu" or (choice == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UqaInputError("device 'cuda' requested but no GPU is available")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    torch.cuda.set_device(local)
    return torch.device("cuda", local)


def wrap(model: nn.Module, dev: torch.device) -> nn.Module:
    """``DistributedDataParallel(model)`` under torchrun, ``model`` otherwise."""
    if not _dist():
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [dev.index] if dev.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def barrier() -> None:
    if _dist():
        import torch.distributed as td

        if td.is_initialized():
            td.barrier()


def gather_to_all(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank (``[obj]`` as one process)."""
    if _dist():
        import torch.distributed as td

        if td.is_initialized():
            out: list[Any] = [None] * td.get_world_size()
            td.all_gather_object(out, obj)
            return out
    return [obj]


def cleanup() -> None:
    if _dist():
        import torch.distributed as td

        if td.is_initialized():
            td.destroy_process_group()
