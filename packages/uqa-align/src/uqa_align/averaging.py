"""An exponential moving average of an adapter's weights (``align.ema``).

The average trails the trained weights: after each optimizer step every averaged
tensor moves ``1 - d`` of the way towards its weight, ``d = min(decay, (1 + t) / (10 + t))``
at update ``t`` (so the first updates are not held back by the initial weights). At the
end of training the averaged weights replace the trained ones.
"""

from __future__ import annotations

from typing import Any

PREFIX = "ema."
"""Key prefix of the averaged tensors in an alignment checkpoint."""


class WeightAverage:
    """The moving average of ``module``'s parameters with ``decay`` in (0, 1)."""

    def __init__(self, module: Any, decay: float) -> None:
        self.module = module
        self.decay = decay
        self.updates = 0
        self.averaged = {n: p.detach().clone() for n, p in module.named_parameters()}

    def update(self) -> None:
        """Move every averaged tensor towards its parameter's current value."""
        import torch

        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with torch.no_grad():
            for n, p in self.module.named_parameters():
                self.averaged[n].lerp_(p.detach(), 1.0 - d)
        self.updates += 1

    def copy_to_module(self) -> None:
        """Put the averaged values in the parameters (the end of training)."""
        import torch

        with torch.no_grad():
            for n, p in self.module.named_parameters():
                p.copy_(self.averaged[n])

    def state(self) -> dict[str, Any]:
        """The averaged tensors and the update count, for a checkpoint's safetensors."""
        import torch

        return {**{PREFIX + n: v for n, v in self.averaged.items()},
                PREFIX + "updates": torch.tensor([self.updates])}

    def held_in(self, state: dict[str, Any]) -> bool:
        """Whether ``state`` (a checkpoint's tensors) holds :meth:`state`'s keys."""
        return all(key in state for key in self.state())

    def load(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state`'s keys in ``state`` (others are ignored)."""
        for n in self.averaged:
            self.averaged[n].copy_(state[PREFIX + n])
        self.updates = int(state[PREFIX + "updates"][0])
