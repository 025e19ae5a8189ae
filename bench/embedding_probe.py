"""Linear probe: how much of a user's interests do the exported embeddings carry?

Trains a softmax classifier on the training users' embeddings to predict, for each
user, the most-clicked category, brand or shop of their history (``whole``), of their
last 10 clicks (``last10``), and the attribute of their last click from the states
before it (``next``: what action-prediction questions ask), then scores held-out
users. Each embedding is pooled two ways over the states before the target: the mean
(``mean_linear``'s default) and the state after the last click (``pool=last``); with
``--whiten`` the mean is also probed whitened as ``mean_linear``'s ``scale=whiten`` does
(fitted on the training users' states).
A high probe accuracy with a low LLM accuracy points at the alignment, not the
encoder; an untrained encoder probed as well as a trained one says the information
sits in the inputs, not in what pre-training learnt.

    python bench/embedding_probe.py --run runs/d0 --untrained --attributes cate,brand,shop \\
        --whiten
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc
import torch

TARGETS = ("whole", "last10", "next")


def _read(path: Path):
    return ipc.open_file(str(path)).read_all()


def labels(run: Path, split: str, attribute: str) -> dict[str, dict[int, int]]:
    """``target -> user -> attribute id`` (see the module doc) for every user of ``split``."""
    items = _read(run / "data" / "items.arrow")
    value = dict(zip(items.column("item_id").to_pylist(),
                     items.column(f"{attribute}_id").to_pylist(), strict=True))
    table = _read(run / "data" / f"{split}.arrow")
    out: dict[str, dict[int, int]] = {t: {} for t in TARGETS}
    for user, seq in zip(table.column("user_id").to_pylist(),
                         table.column("item_ids").to_pylist(), strict=True):
        seen = seq[:-1]  # the states before the last click see these
        out["whole"][user] = collections.Counter(value[i] for i in seen).most_common(1)[0][0]
        out["last10"][user] = collections.Counter(
            value[i] for i in seen[-10:]).most_common(1)[0][0]
        out["next"][user] = value[seq[-1]]
    return out


def embeddings(run: Path, split: str, untrained: bool) -> dict[str, tuple[list[int], np.ndarray]]:
    """``pool -> (users, vectors)`` over each user's states before their last click."""
    folder = run / "embeddings" / ("untrained" if untrained else "")
    table = _read(folder / f"{split}.arrow")
    lengths = dict(zip(*(_read(run / "data" / f"{split}.arrow").column(c).to_pylist()
                         for c in ("user_id", "item_ids")), strict=True))
    users, mean, last = [], [], []
    for user, states, first in zip(table.column("user_id").to_pylist(),
                                   table.column("embeddings").to_pylist(),
                                   table.column("first_position").to_pylist(), strict=True):
        k = len(lengths[user]) - 1 - first  # states after the clicks before the last one
        if k < 1:
            continue
        s = np.asarray(states[:k], dtype=np.float32)
        users.append(user)
        mean.append(s.mean(0))
        last.append(s[-1])
    return {"mean": (users, np.stack(mean)), "last": (users, np.stack(last))}


def whitener(run: Path, untrained: bool) -> tuple[np.ndarray, np.ndarray]:
    """The mean and whitening matrix ``mean_linear``'s ``scale=whiten`` fits on every
    state of the training users; applied to a pooled mean (whitening is linear, so it
    commutes with the mean) as ``(x - mean) @ matrix``."""
    from uqa_align.adapters.base import whitening

    folder = run / "embeddings" / ("untrained" if untrained else "")
    states = torch.tensor(np.concatenate([
        np.asarray(s, dtype=np.float32)
        for s in _read(folder / "train.arrow").column("embeddings").to_pylist()]))
    mean, matrix = whitening(states)
    return mean.numpy(), matrix.numpy()


def probe(train: tuple[list[int], np.ndarray], test: tuple[list[int], np.ndarray],
          y_train: dict[int, int], y_test: dict[int, int], steps: int = 300,
          hidden: int = 0) -> tuple[float, float]:
    """Held-out accuracy of the probe and of always answering the majority class.

    ``hidden``: a hidden layer of that width (GELU) before the softmax, to see whether
    what a linear probe misses is there in a non-linear form."""
    torch.manual_seed(0)
    (users, x), (users_t, x_t) = train, test
    mu, sd = x.mean(0), x.std(0) + 1e-6
    xs, xt = torch.tensor((x - mu) / sd), torch.tensor((x_t - mu) / sd)
    y = torch.tensor([y_train[u] for u in users])
    yt = torch.tensor([y_test[u] for u in users_t])
    n_classes = int(max(y.max(), yt.max())) + 1
    head: torch.nn.Module = torch.nn.Linear(xs.shape[1], n_classes)
    if hidden:
        head = torch.nn.Sequential(torch.nn.Linear(xs.shape[1], hidden), torch.nn.GELU(),
                                   torch.nn.Linear(hidden, n_classes))
    opt = torch.optim.Adam(head.parameters(), 3e-3 if hidden else 1e-2, weight_decay=1e-4)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(head(xs), y).backward()
        opt.step()
    acc = (head(xt).argmax(1) == yt).float().mean().item()
    majority = collections.Counter(y.tolist()).most_common(1)[0][1] / len(y)
    return acc, majority


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run dir with data/ and embeddings/")
    ap.add_argument("--untrained", action="store_true",
                    help="also probe the untrained encoder's embeddings/untrained/")
    ap.add_argument("--attributes", default="cate", help="comma-separated: cate, brand, shop")
    ap.add_argument("--whiten", action="store_true",
                    help="also probe the mean whitened as mean_linear's scale=whiten does")
    ap.add_argument("--hidden", type=int, default=0,
                    help="probe through a hidden layer of this width (GELU) instead of a "
                         "linear map")
    args = ap.parse_args()
    print("| encoder | pool | attribute | whole history | last 10 clicks | next click | "
          "majority (whole / last 10 / next) |")
    print("|---|---|---|---:|---:|---:|---:|")
    for attribute in args.attributes.split(","):
        y_train, y_test = labels(args.run, "train", attribute), labels(args.run, "test", attribute)
        for untrained in (False, True) if args.untrained else (False,):
            train, test = embeddings(args.run, "train", untrained), embeddings(args.run, "test",
                                                                               untrained)
            if args.whiten:
                mean, matrix = whitener(args.run, untrained)
                for pools in (train, test):
                    users, x = pools["mean"]
                    pools["mean, whitened"] = (users, (x - mean) @ matrix)
            for pool in train:
                results = [probe(train[pool], test[pool], y_train[t], y_test[t],
                                 hidden=args.hidden) for t in TARGETS]
                print(f"| {'untrained' if untrained else 'trained'} | {pool} | {attribute} | "
                      + " | ".join(f"{acc:.3f}" for acc, _ in results) + " | "
                      + " / ".join(f"{maj:.3f}" for _, maj in results) + " |")


if __name__ == "__main__":
    main()
