"""Linear probe: how much of a user's interests do the exported embeddings carry?

Trains a softmax classifier on the training users' embeddings to predict each
user's most-clicked category (whole history, and the last 10 clicks), then
scores held-out users. A high probe accuracy with a low LLM accuracy points at
the alignment, not the encoder.

    python bench/embedding_probe.py --run runs/bench-default
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc
import torch


def _read(path: Path):
    return ipc.open_file(str(path)).read_all()


def top_categories(run: Path, split: str, recent: int | None) -> dict[int, int]:
    items = _read(run / "data" / "items.arrow")
    cate = dict(zip(items.column("item_id").to_pylist(), items.column("cate_id").to_pylist(),
                    strict=True))
    table = _read(run / "data" / f"{split}.arrow")
    out = {}
    for user, seq in zip(table.column("user_id").to_pylist(),
                         table.column("item_ids").to_pylist(), strict=True):
        window = seq if recent is None else seq[-recent:]
        out[user] = collections.Counter(cate[i] for i in window).most_common(1)[0][0]
    return out


def embeddings(run: Path, split: str, pooling: str, untrained: bool = False
               ) -> tuple[list[int], np.ndarray]:
    folder = run / "embeddings" / ("untrained" if untrained else "")
    table = _read(folder / f"{split}.arrow")
    if pooling == "mean":
        x = np.array(table.column("embedding").to_pylist(), dtype=np.float32)
    else:
        x = np.array([e[-1] for e in table.column("embeddings").to_pylist()], dtype=np.float32)
    return table.column("user_id").to_pylist(), x


def probe(run: Path, pooling: str, recent: int | None, steps: int = 300,
          untrained: bool = False) -> tuple[float, float]:
    """Held-out accuracy of the probe and of always answering the majority class."""
    torch.manual_seed(0)
    y_train, y_test = top_categories(run, "train", recent), top_categories(run, "test", recent)
    users, x = embeddings(run, "train", pooling, untrained)
    users_t, x_t = embeddings(run, "test", pooling, untrained)
    mu, sd = x.mean(0), x.std(0) + 1e-6
    xs, xt = torch.tensor((x - mu) / sd), torch.tensor((x_t - mu) / sd)
    y = torch.tensor([y_train[u] for u in users])
    yt = torch.tensor([y_test[u] for u in users_t])
    n_classes = int(max(y.max(), yt.max())) + 1
    head = torch.nn.Linear(xs.shape[1], n_classes)
    opt = torch.optim.Adam(head.parameters(), 1e-2, weight_decay=1e-4)
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
    args = ap.parse_args()
    print("| encoder | embedding | target | probe acc (held-out users) | majority class |")
    print("|---|---|---|---:|---:|")
    for untrained in (False, True) if args.untrained else (False,):
        for pooling in ("mean", "last"):
            for recent, name in ((None, "top category, whole history"),
                                 (10, "top category, last 10 clicks")):
                acc, maj = probe(args.run, pooling, recent, untrained=untrained)
                print(f"| {'untrained' if untrained else 'trained'} | {pooling} | {name} | "
                      f"{acc:.3f} | {maj:.3f} |")


if __name__ == "__main__":
    main()
