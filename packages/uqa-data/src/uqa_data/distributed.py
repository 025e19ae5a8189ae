"""Joining a ``torchrun`` job: shared by the training packages (pre-training, alignment).

uqa-data does not depend on torch: torch is imported only under ``torchrun``
(``WORLD_SIZE > 1``), by the packages that train, which do.
"""

from __future__ import annotations

import os


def is_distributed() -> bool:
    """Whether this process is one rank of several (launched by ``torchrun``)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_rank_zero() -> bool:
    """Whether this process is the one that writes and reports: always, but under torchrun
    (``RANK`` set) only rank 0."""
    return os.environ.get("RANK", "0") in ("", "0")


def init_process_group() -> tuple[int, int]:
    """``(rank, world size)``; joins the process group (nccl on GPU, gloo on CPU) when
    launched by torchrun, and is ``(0, 1)`` otherwise."""
    if not is_distributed():
        return 0, 1
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()
