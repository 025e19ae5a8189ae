"""The user model: feature embedding + a zoo encoder, and its safetensors checkpoint.

``config.json`` beside ``model.safetensors`` holds everything needed to rebuild
the model (encoder name and config, feature shapes, input mode); loading checks
every tensor's name and shape and names the first mismatch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from uqa_data.errors import UnknownNameError, UqaError, UqaInputError
from uqa_data.io import atomic_path, read_json, write_json
from uqa_data.registry import get_component, unknown_name_message

from uqa_encoders.features import FeatureEmbedding
from uqa_encoders.inputs import ItemFeatures, load_items
from uqa_encoders.zoo.base import EncoderConfig, SequentialEncoder

FORMAT = "uqa-encoder/1"


def encoder_config(name: str, size: str, flag: str = "--size", **overrides: Any) -> Any:
    """The config dataclass of encoder ``name`` at size preset ``size`` with overrides.

    :param flag: the option that chose ``size``, for the message of an unknown size
        (``--size`` for ``uqa pretrain``, ``--encoder-size`` for ``uqa run``).
    """
    spec = get_component("encoder", name, flag="--encoder")
    sizes = encoder_sizes(spec)
    if size not in sizes:
        raise UnknownNameError(
            unknown_name_message(f"{name} size", str(size), list(sizes), flag=flag)
        )
    cls = spec.load_config()
    if not (isinstance(cls, type) and issubclass(cls, EncoderConfig) and is_dataclass(cls)):
        raise UqaError(f"encoder '{name}' ({spec.origin()}): its config {cls!r} must be a "
                       "dataclass subclassing uqa_encoders.zoo.base.EncoderConfig")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(sizes[size]) - known)
    if unknown:
        raise UqaError(f"encoder '{name}' ({spec.origin()}): size '{size}' sets "
                       f"{', '.join(unknown)}, which {cls.__name__} has no field for; fields: "
                       f"{', '.join(sorted(known))}")
    args = {**sizes[size], **{k: v for k, v in overrides.items() if k in known}}
    try:
        return cls(**args)
    except (TypeError, ValueError) as exc:
        raise UqaError(f"encoder '{name}' ({spec.origin()}): {cls.__name__}(size '{size}') "
                       f"failed: {exc}") from exc


def encoder_sizes(spec: Any) -> dict[str, dict[str, Any]]:
    """An encoder's size presets (``options["sizes"]``: size name -> config settings).

    :raises UqaError: they are not such a mapping (naming the encoder and its plugin).
    """
    sizes = spec.options.get("sizes", {})
    if not isinstance(sizes, Mapping) or not all(
            isinstance(k, str) and isinstance(v, Mapping) for k, v in sizes.items()):
        raise UqaError(f"encoder '{spec.name}' ({spec.origin()}): options['sizes'] must map "
                       "each size name to its config settings ({'small': {'layers': 2, ...}}); "
                       f"got {type(sizes).__name__} {sizes!r:.60}")
    return {k: dict(v) for k, v in sizes.items()}


def build_encoder(name: str, config: Any) -> SequentialEncoder:
    """Instantiate the registered encoder class ``name`` with ``config``."""
    spec = get_component("encoder", name, flag="--encoder")
    cls = spec.load()
    if not (isinstance(cls, type) and issubclass(cls, SequentialEncoder)):
        raise UqaInputError(f"encoder '{name}' ({spec.origin()}): target {cls!r} is not a "
                            "uqa_encoders.zoo.base.SequentialEncoder")
    return cls(config)


class UserModel(nn.Module):
    """``forward(item_ids [B, L], lengths [B], timestamps) -> hidden [B, L, D]`` (0 at padding)."""

    def __init__(self, features: FeatureEmbedding, encoder: SequentialEncoder) -> None:
        super().__init__()
        self.features = features
        self.encoder = encoder

    @property
    def dim(self) -> int:
        return self.encoder.config.dim

    def forward(
        self,
        item_ids: torch.Tensor,
        lengths: torch.Tensor,
        timestamps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if item_ids.numel() and int(item_ids.max()) > self.features.num_items:
            raise UqaInputError(
                f"item id {int(item_ids.max())} is beyond the encoder's vocabulary "
                f"1..{self.features.num_items}"
            )
        x = self.features.embed_unique(item_ids)
        if timestamps is not None:  # relative to each sequence's first click
            timestamps = timestamps - timestamps[:, :1]
        h = self.encoder(x, lengths, timestamps)
        expected = (*item_ids.shape, self.dim)
        if not isinstance(h, torch.Tensor) or tuple(h.shape) != expected:
            got = tuple(h.shape) if isinstance(h, torch.Tensor) else type(h).__name__
            raise UqaError(f"encoder '{self.encoder.name or type(self.encoder).__name__}' "
                           f"returned hidden states of shape "
                           f"{got}; expected [batch, length, dim] = {expected}, one state per "
                           "click")
        mask = SequentialEncoder.valid_mask(lengths, item_ids.shape[1])
        return h * mask.unsqueeze(-1).to(h.dtype)

    def item_table(self) -> torch.Tensor:
        """Output embeddings of every item (tied with the input features): ``[N+1, D]``."""
        return self.features.all_items()


def model_config(
    *,
    encoder: str,
    size: str,
    encoder_cfg: Any,
    items: ItemFeatures,
    input_mode: str,
    max_tokens: int,
) -> dict[str, Any]:
    """The JSON-able description ``build_model`` rebuilds a model from."""
    return {
        "format": FORMAT,
        "encoder": encoder,
        "size": size,
        "encoder_config": encoder_cfg.to_dict(),
        "dim": encoder_cfg.dim,
        "max_len": encoder_cfg.max_len,
        "features": {
            "num_items": items.num_items,
            "side_sizes": list(items.side_sizes),
            "text_vocab": items.text_vocab,
            "max_tokens": max_tokens,
            "input_mode": input_mode,
        },
    }


def build_model(config: dict[str, Any]) -> UserModel:
    """A freshly initialised model of the shape ``config`` describes."""
    name = config["encoder"]
    spec = get_component("encoder", name, flag="--encoder")
    enc_cfg = spec.load_config()(**config["encoder_config"])
    f = config["features"]
    features = FeatureEmbedding(
        f["num_items"], tuple(f["side_sizes"]), f["text_vocab"], f["max_tokens"],
        enc_cfg.dim, f["input_mode"],
    )
    return UserModel(features, build_encoder(name, enc_cfg))


def check_state(model: nn.Module, state: dict[str, torch.Tensor], source: Path, what: str) -> None:
    """Raise naming the first missing, unexpected or mis-shaped tensor."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise UqaInputError(
            f"{source}: weights do not match {what}: "
            f"missing {missing[:3]}, unexpected {unexpected[:3]} "
            "(a checkpoint from another encoder or input mode?)"
        )
    for k, v in own.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise UqaInputError(
                f"{source}: tensor '{k}' has shape {tuple(state[k].shape)} but {what} "
                f"expects {tuple(v.shape)} (a checkpoint of another size?)"
            )


def save_weights(model: nn.Module, path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write ``model``'s weights as safetensors, atomically."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=metadata or {})


def load_weights(model: nn.Module, path: Path, what: str) -> None:
    """Load safetensors weights into ``model`` after checking names and shapes."""
    from uqa_data.io import check_file

    check_file(path, "encoder weights")
    try:
        state = load_file(str(path))
    except Exception as exc:
        raise UqaInputError(f"{path}: not a readable safetensors file: {exc}") from exc
    check_state(model, state, path, what)
    model.load_state_dict(state)


def read_model_config(encoder_dir: Path) -> dict[str, Any]:
    """Read and check ``encoder_dir/config.json``."""
    path = Path(encoder_dir) / "config.json"
    config = read_json(path, what="encoder config")
    for key in ("format", "encoder", "encoder_config", "features"):
        if key not in config:
            raise UqaInputError(f"{path}: missing key '{key}'; expected an uqa encoder config")
    if config["format"] != FORMAT:
        raise UqaInputError(f"{path}: format '{config['format']}'; expected '{FORMAT}'")
    spec = get_component("encoder", config["encoder"], flag=f"'encoder' in {path}")
    cls = spec.load_config()
    enc = config["encoder_config"]
    if not isinstance(enc, dict):
        raise UqaInputError(f"{path}: 'encoder_config' must be a JSON object")
    known = sorted(f.name for f in fields(cls))
    for key in enc:
        if key not in known:
            raise UqaInputError(unknown_name_message(
                f"{config['encoder']} encoder_config key", key, known, flag=str(path)))
    from uqa_data.settings import coerce_settings

    config["encoder_config"] = coerce_settings(cls, enc, what=f"{path}: encoder_config")
    return config


def load_model(
    encoder_dir: Path, data_dir: Path, *, untrained: bool = False
) -> tuple[UserModel, dict[str, Any]]:
    """Rebuild the model in ``encoder_dir`` with item features from ``data_dir``.

    ``untrained=True`` returns a freshly initialised model of the same shape,
    seeded from the recorded pre-training seed.
    """
    encoder_dir = Path(encoder_dir)
    config = read_model_config(encoder_dir)
    seed = int(config.get("pretrain", {}).get("seed", 0))
    torch.manual_seed(seed)
    model = build_model(config)
    if not untrained:
        load_weights(model, encoder_dir / "model.safetensors", f"encoder '{config['encoder']}'")
    f = config["features"]
    model.features.set_features(
        load_items(Path(data_dir), text_vocab=f["text_vocab"], max_tokens=f["max_tokens"])
    )
    model.eval()
    return model, config


def write_model(model: UserModel, config: dict[str, Any], encoder_dir: Path) -> None:
    """Write ``model.safetensors`` then ``config.json`` into ``encoder_dir``."""
    encoder_dir.mkdir(parents=True, exist_ok=True)
    save_weights(model, encoder_dir / "model.safetensors", {"encoder": config["encoder"]})
    write_json(config, encoder_dir / "config.json")
