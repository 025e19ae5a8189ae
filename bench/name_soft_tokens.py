"""Zero-shot soft tokens made of the user's attribute names: does the frozen LLM read them?

No adapter is trained. Every click is turned into a vector in the LLM's token-embedding
space from its category, brand and shop names, and the user's soft token is the mean
over the clicks a question may see (per-position "embeddings", pooled by an identity
``mean_linear``). Two kinds of vector per name:

- ``words``: the mean of the LLM's input embeddings of the name's tokens, summed over the
  three attributes (``raw1``, one soft token; ``raw3``, one token per attribute), or
  centred on the population's mean click (``cen1``, ``cen3``);
- ``readout``: the name's readout direction, the gradient with respect to the soft token
  of the name's choice margin (log-softmax over four options, the name among three
  others of its attribute, under question templates of the alignment set), taken at a
  neutral soft token ``u0``; the user's soft token is ``u0`` plus ``alpha`` times their
  centred sum of directions (``R1``, ``R3``, ``R10``).

If the frozen LLM read either as the names themselves, a soft token made this way would
answer interest questions above the ``none`` control without any alignment.

    python bench/name_soft_tokens.py --run runs/d0 --template /tmp/a1 --out /tmp/bow

``--template``: any adapter directory aligned on the run with ``mean_linear`` (e.g.
``uqa align --out runs/d0 --steps 1 --adapter-dir /tmp/a1``): its config is reused.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import torch
from safetensors.torch import load_file, save_file

ATTRS = {"category": "cate_name", "brand": "brand_name", "shop": "shop_name"}
INTEREST = ("li", "si", "it")


def _read(path: Path) -> pa.Table:
    return ipc.open_file(str(path)).read_all()


def _write_embeddings(rows: list[torch.Tensor], user_ids: list, path: Path) -> None:
    from uqa_data.io import write_table

    width = rows[0].shape[1]
    emb = pa.array([r.numpy().tolist() for r in rows], type=pa.list_(pa.list_(pa.float32(), width)))
    write_table(pa.table({"user_id": pa.array([int(u) for u in user_ids], pa.int64()),
                          "embeddings": emb,
                          "first_position": pa.array([0] * len(rows), pa.int64())}), path)


def _identity_adapter(template: Path, out: Path, width: int, tokens: int, in_mean: torch.Tensor,
                      gain: float = 1.0, bias: torch.Tensor | None = None) -> None:
    """An identity ``mean_linear`` (times ``gain``, plus ``bias``, over the mean of the
    positions) with the template's config."""
    cfg = json.loads((template / "config.json").read_text())
    cfg["adapter"].update(in_dim=width, num_tokens=tokens)
    cfg["adapter"]["options"].update(num_tokens=tokens, pool="mean")
    cfg["align"]["adapter_options"] = {"num_tokens": tokens, "pool": "mean"}
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg, indent=2))
    norm = load_file(str(template / "adapter.safetensors"))["out_norm"]
    save_file({"in_mean": in_mean.contiguous(), "in_std": torch.ones(width), "out_norm": norm,
               "log_gain": torch.zeros(()), "proj.weight": (torch.eye(width) * gain).contiguous(),
               "proj.bias": (torch.zeros(width) if bias is None else bias).contiguous()},
              str(out / "adapter.safetensors"))


def name_ids(tok, name: str) -> list[int]:
    return list(tok(name, add_special_tokens=False)["input_ids"])


def readout_directions(llm, align: list[dict], names: dict[str, list[str]], u0: torch.Tensor,
                       prompts_per_name: int, seed: int) -> dict[tuple[str, str], torch.Tensor]:
    """Each name's gradient of its choice margin with respect to the soft token at ``u0``."""
    from uqa_align.prompt import PromptBuilder, PromptStyle
    from uqa_align.soft_prompt import option_logprobs

    rng = random.Random(seed)
    tok = llm.tokenizer
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    builder = PromptBuilder(tok, PromptStyle())
    texts = {a: sorted({q["question"] for q in align if q["attribute"] == a
                        and q["task"] in ("si", "ap", "df") and "," not in q["answer_text"]
                        and "then" not in q["answer_text"]}) for a in ATTRS}
    out = {}
    for a in ATTRS:
        for n in names[a]:
            prompts, gold = [], []
            for _ in range(prompts_per_name):
                opts = rng.sample([m for m in names[a] if m != n], 3)
                k = rng.randrange(4)
                opts.insert(k, n)
                prompts.append(builder.encode(rng.choice(texts[a]), opts, n_soft=1))
                gold.append(k)
            soft = u0.expand(len(prompts), 1, -1).clone().requires_grad_(True)
            scores = option_logprobs(llm.model, prompts, soft, pad)
            loss = -sum(torch.log_softmax(s, 0)[g] for s, g in zip(scores, gold, strict=True))
            loss.backward()
            out[(a, n)] = -soft.grad.sum(0)[0].detach()
        print(f"  readout directions: {a} ({len(names[a])} names)", flush=True)
    return out


def build(run: Path, template: Path, out: Path, prompts_per_name: int, seed: int) -> list[str]:
    from uqa_align.llm import load_llm

    torch.manual_seed(seed)
    llm = load_llm("smollm2")
    emb = llm.model.get_input_embeddings().weight.detach().float()
    hidden = emb.shape[1]
    items = _read(run / "data/items.arrow").to_pydict()
    users = _read(run / "data/test.arrow").to_pydict()
    names = {a: sorted(set(items[c])) for a, c in ATTRS.items()}
    word = {n: emb[name_ids(llm.tokenizer, " " + n)].mean(0) for a in ATTRS for n in names[a]}
    per_item = torch.zeros(max(items["item_id"]) + 1, 3, hidden)
    for i, iid in enumerate(items["item_id"]):
        for j, col in enumerate(ATTRS.values()):
            per_item[iid, j] = word[items[col][i]]
    clicks = [per_item[torch.tensor(s)] for s in users["item_ids"]]  # [T, 3, H] each
    mean3 = torch.cat(clicks).mean(0)
    _write_embeddings([c.sum(1) for c in clicks], users["user_id"], out / "words1.arrow")
    _write_embeddings([c.flatten(1) for c in clicks], users["user_id"], out / "words3.arrow")
    _identity_adapter(template, out / "raw1", hidden, 1, torch.zeros(hidden))
    _identity_adapter(template, out / "cen1", hidden, 1, mean3.sum(0))
    _identity_adapter(template, out / "raw3", 3 * hidden, 3, torch.zeros(3 * hidden))
    _identity_adapter(template, out / "cen3", 3 * hidden, 3, mean3.flatten())

    ids0 = sorted({i for n in word for i in name_ids(llm.tokenizer, n)})
    u0 = emb[ids0].mean(0)
    u0 = u0 / u0.norm() * float(load_file(str(template / "adapter.safetensors"))["out_norm"])
    align = _read(run / "questions/align.arrow").to_pylist()
    directions = readout_directions(llm, align, names, u0, prompts_per_name, seed)
    unit = {k: v / v.norm() for k, v in directions.items()}
    per_item = torch.zeros(max(items["item_id"]) + 1, hidden)
    for i, iid in enumerate(items["item_id"]):
        per_item[iid] = sum(unit[(a, items[c][i])] for a, c in ATTRS.items())
    rows = [per_item[torch.tensor(s)] for s in users["item_ids"]]
    mu = torch.cat(rows).mean(0)
    spread = float(torch.stack([r.mean(0) - mu for r in rows]).norm(dim=1).median())
    _write_embeddings(rows, users["user_id"], out / "readout.arrow")
    for alpha in (1, 3, 10):
        _identity_adapter(template, out / f"R{alpha}", hidden, 1, mu,
                          gain=float(u0.norm()) * alpha / spread, bias=u0)
    return ["raw1", "cen1", "raw3", "cen3", "R1", "R3", "R10"]


def evaluate(run: Path, out: Path, variants: list[str]) -> None:
    files = {"raw1": "words1", "cen1": "words1", "raw3": "words3", "cen3": "words3"}
    for v in variants:
        subprocess.run([str(Path(sys.executable).with_name("uqa")), "eval", "--out", str(run),
                        "--embeddings", str(out / f"{files.get(v, 'readout')}.arrow"),
                        "--adapter-dir", str(out / v), "--predictions",
                        str(out / f"pred-{v}.arrow")], check=True)


def table(run: Path, out: Path, variants: list[str]) -> str:
    """Accuracy per question group, and each variant minus ``none`` over the same questions
    (95% paired bootstrap, ``*`` where the interval excludes zero)."""
    from uqa_eval.significance import fmt_difference, paired_difference

    questions = {r["question_id"]: r for r in _read(run / "questions/eval.arrow").to_pylist()}
    groups = {"overall": lambda q: True, "IP": lambda q: q["task"] in INTEREST}
    groups |= {f"IP {a}": (lambda q, a=a: q["task"] in INTEREST and q["attribute"] == a)
               for a in ATTRS}

    def correct(path: Path) -> dict[str, bool]:
        return {r["question_id"]: bool(r["correct"]) for r in _read(path).to_pylist()}

    none = correct(run / "baselines/none/predictions/eval.arrow")
    ids = {g: [k for k in none if keep(questions[k])] for g, keep in groups.items()}
    lines = ["| soft token | " + " | ".join(f"{g} (n={len(ids[g])})" for g in groups) + " |",
             "|---|" + "---:|" * len(groups)]
    lines.append("| none | " + " | ".join(
        f"{100 * sum(none[k] for k in ids[g]) / len(ids[g]):.1f}" for g in groups) + " |")
    for v in variants:
        path = out / f"pred-{v}.arrow"
        if not path.is_file():
            continue
        ours = correct(path)
        cells = []
        for g in groups:
            d = paired_difference([ours[k] for k in ids[g]], [none[k] for k in ids[g]])
            acc = 100 * sum(ours[k] for k in ids[g]) / len(ids[g])
            cells.append(f"{acc:.1f}, {fmt_difference(d)}{' *' if d['signal'] else ''}")
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--template", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--prompts-per-name", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--table", action="store_true", help="only print the table")
    args = ap.parse_args()
    variants = ["raw1", "cen1", "raw3", "cen3", "R1", "R3", "R10"]
    if not args.table:
        variants = build(args.run, args.template, args.out, args.prompts_per_name, args.seed)
        evaluate(args.run, args.out, variants)
    print(table(args.run, args.out, variants))


if __name__ == "__main__":
    main()
