"""Run one training stage from a JSON spec; the entry point of ``--launcher torchrun``.

``torchrun --standalone --nproc_per_node N -m uqa_cli.worker STAGE SPEC.json``
starts N processes that each rebuild the stage config from the spec and call
the same stage function as a local run; the stage functions handle DDP
themselves (rank 0 writes the files).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from uqa_data.errors import UqaError, UqaInputError
from uqa_data.io import write_json


def config_from_dict(cls: Any, data: dict[str, Any]) -> Any:
    """Rebuild a config dataclass (nested dataclass fields included) from ``asdict`` output."""
    if hasattr(cls, "from_dict"):
        return cls.from_dict(data)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        ftype = f.type if not isinstance(f.type, str) else None
        if ftype is not None and dataclasses.is_dataclass(ftype) and isinstance(value, dict):
            value = config_from_dict(ftype, value)
        elif isinstance(value, list) and isinstance(f.default, tuple):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def run_stage(stage: str, spec: dict[str, Any]) -> Any:
    """Call the stage function named by ``stage`` with the paths and config in ``spec``."""
    paths = {k: Path(v) for k, v in spec["paths"].items()}
    if stage == "pretrain":
        from uqa_encoders.pretrain import PretrainConfig, pretrain

        cfg = config_from_dict(PretrainConfig, spec["config"])
        return pretrain(paths["data_dir"], paths["encoder_dir"], cfg,
                        resume=bool(spec.get("resume")), log_dir=paths.get("log_dir"))
    if stage == "align":
        from uqa_align.train import AlignConfig, align

        cfg = config_from_dict(AlignConfig, spec["config"])
        emb = paths.get("embeddings_path")
        return align(paths["questions_path"], emb, paths["data_dir"], paths["adapter_dir"], cfg,
                     resume=bool(spec.get("resume")), log_dir=paths.get("log_dir"))
    raise UqaError(f"stage '{stage}' cannot run under a launcher; expected pretrain or align")


def workers() -> int:
    """``$UQA_NPROC`` (default: the GPUs, or 2 on a CPU): torchrun workers per node.

    :raises UqaInputError: ``UQA_NPROC`` is set to anything but an integer >= 1.
    """
    given = os.environ.get("UQA_NPROC")
    if given is not None:
        if not given.strip().isdigit() or int(given) < 1:
            raise UqaInputError(f"UQA_NPROC={given!r}: expected an integer >= 1 (torchrun "
                                "workers per node, for --launcher torchrun)")
        return int(given)
    try:
        import torch

        return torch.cuda.device_count() or 2
    except ImportError:
        return 2


def launch_torchrun(stage: str, spec: dict[str, Any], spec_path: Path) -> None:
    """Run ``stage`` in :func:`workers` torchrun workers."""
    nproc = workers()
    write_json(spec, spec_path)
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")
    cmd = [
        torchrun,
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        "uqa_cli.worker",
        stage,
        str(spec_path),
    ]
    proc = subprocess.Popen(cmd)
    try:
        code = proc.wait()
    except BaseException:  # Ctrl-C, SIGTERM: the workers stop before this process does
        stop_launcher(proc)
        raise
    if code != 0:
        raise UqaError(f"torchrun {stage} failed with exit code {code}: {' '.join(cmd)}")


STOP_GRACE_S = 60.0
"""Seconds torchrun gets to stop its workers after SIGTERM before it is killed."""


def stop_launcher(proc: subprocess.Popen, grace: float = STOP_GRACE_S) -> None:
    """Stop a torchrun launcher and its workers, and wait for them.

    SIGTERM lets torchrun's agent stop its workers (they run in sessions of their own, so
    a terminal's Ctrl-C does not reach them, and killing the agent outright would leave
    them training into the run directory after its lock is gone); after ``grace``
    seconds the agent is killed.
    """
    import signal

    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: python -m uqa_cli.worker STAGE SPEC.json")
    stage, spec_file = args
    run_stage(stage, json.loads(Path(spec_file).read_text()))


if __name__ == "__main__":
    main()
