"""Feature embedding of clicked items: item id + ID side info + text token bags.

Input modes follow the paper's ablation (UQABench Table 3): ``full`` (id, side
ids, text), ``no-text`` (id and side ids), ``id-only``. The item vector is the
sum of the parts; the same vectors score items at the output (tied embeddings).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from uqa_data.errors import UqaInputError

from uqa_encoders.inputs import ItemFeatures

INPUT_MODES: tuple[str, ...] = ("full", "no-text", "id-only")


class FeatureEmbedding(nn.Module):
    """Maps item ids ``[...]`` to vectors ``[..., dim]``; id 0 (padding) maps to zeros."""

    def __init__(
        self,
        num_items: int,
        side_sizes: tuple[int, ...],
        text_vocab: int,
        max_tokens: int,
        dim: int,
        input_mode: str = "full",
    ) -> None:
        super().__init__()
        if input_mode not in INPUT_MODES:
            raise UqaInputError(
                f"unknown input mode '{input_mode}' (--input-mode); valid: {', '.join(INPUT_MODES)}"
            )
        self.num_items = num_items
        self.input_mode = input_mode
        self.item = nn.Embedding(num_items + 1, dim, padding_idx=0)
        self.side = nn.ModuleList(
            nn.Embedding(size, dim, padding_idx=0) for size in side_sizes
        ) if input_mode != "id-only" else nn.ModuleList()
        self.text = nn.Embedding(text_vocab, dim, padding_idx=0) if input_mode == "full" else None
        # Features are data, not weights: filled by set_features, never saved.
        self.register_buffer(
            "side_ids",
            torch.zeros(num_items + 1, len(side_sizes), dtype=torch.long),
            persistent=False,
        )
        self.register_buffer(
            "token_ids", torch.zeros(num_items + 1, max_tokens, dtype=torch.long), persistent=False
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Truncated-normal init (std 0.02), padding rows zero."""
        embeddings = [self.item, *self.side] + ([self.text] if self.text is not None else [])
        for emb in embeddings:
            nn.init.trunc_normal_(emb.weight, std=0.02, a=-0.04, b=0.04)
            with torch.no_grad():
                emb.weight[0].zero_()

    def set_features(self, features: ItemFeatures) -> None:
        """Load side ids and token bags of every item (shapes must match the config)."""
        if features.num_items != self.num_items:
            raise UqaInputError(
                f"items.arrow has {features.num_items} items but the encoder was built for "
                f"{self.num_items}; pre-train again on this data"
            )
        side = torch.as_tensor(features.side)
        tokens = torch.as_tensor(features.tokens)
        for j, emb in enumerate(self.side):
            if int(side[:, j].max()) >= emb.num_embeddings:
                raise UqaInputError(
                    f"items.arrow side column {j} has id {int(side[:, j].max())} beyond the "
                    f"encoder's table of {emb.num_embeddings}; pre-train again on this data"
                )
        self.side_ids.copy_(side)
        self.token_ids.copy_(tokens[:, : self.token_ids.shape[1]])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """``ids [...] -> [..., dim]``."""
        out = self.item(ids)
        if self.side:
            side = self.side_ids[ids]  # [..., 4]
            for j, emb in enumerate(self.side):
                out = out + emb(side[..., j])
        if self.text is not None:
            tok = self.token_ids[ids]  # [..., T]
            mask = (tok > 0).unsqueeze(-1).to(out.dtype)
            bag = (self.text(tok) * mask).sum(-2) / mask.sum(-2).clamp(min=1.0)
            out = out + bag
        return out

    def embed_unique(self, ids: torch.Tensor) -> torch.Tensor:
        """Same as ``forward`` but composes each distinct id once (cheaper for batches).

        The composed rows are looked up as an embedding table, whose backward pass sums
        the clicks' gradients per row in one sorted pass (a ``[256, 50]`` batch of 2,000
        items at d64 with side features and titles, forward and backward: 5.0 ms against
        8.5 for advanced indexing). Ids alone need no composing: ``forward`` is then one
        table lookup (1.5 ms against 4.0)."""
        if not self.side and self.text is None:
            return self(ids)
        uniq, inverse = torch.unique(ids, return_inverse=True)
        return F.embedding(inverse, self(uniq))

    def all_items(self) -> torch.Tensor:
        """Vectors of every id ``0..N`` (row 0 is padding): ``[N+1, dim]``. Ids alone: the
        item table itself, not a looked-up copy of it (whose backward pass would rebuild a
        dense gradient of the table's size to add to the loss's own)."""
        if not self.side and self.text is None:
            return self.item.weight
        return self(torch.arange(self.num_items + 1, device=self.item.weight.device))
