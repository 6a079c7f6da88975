"""rcvit: the CAS-ViT backbone family (official xs/s/m/t) returning multi-scale features.

"CAS-ViT: Convolutional Additive Self-attention Vision Transformers for Efficient Mobile Applications"
(Zhang et al., arXiv:2408.03703), official code ``classification/model/rcvit.py`` (module and attribute names kept,
so official checkpoints load by name). Shape shorthand: B batch, Ci stage-i width, H x W input size.

Stages i = 0..3 have strides 4/8/16/32; the backbone returns the BN-normalised outputs of the selected stages
(``out_indices``, default (1, 2, 3): strides 8/16/32), as the official ``fork_feat`` mode does. Deviations from
the reference code: no classifier head and no drop path (a detection backbone); GFD-Net's non-official ``rcvit_m``
(layers [2,2,4,2], dims [32,64,128,256], LocalIntegration ratio 2) is not offered, the official configurations are.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch
from torch import nn

from .cas_ops import ChannelOperation, LocalIntegration, Mlp, SpatialOperation
from ..on_load import RegisterOnLoad

__all__ = ("RCVIT_VARIANTS", "AdditiveBlock", "AdditiveTokenMixer", "Embedding", "RCViT", "load_local_checkpoint")

LOGGER = logging.getLogger(__name__)

RCVIT_VARIANTS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {  # name: (blocks per stage, stage widths)
    "xs": ((2, 2, 4, 2), (48, 56, 112, 220)),
    "s": ((3, 3, 6, 3), (48, 64, 128, 256)),
    "m": ((3, 3, 6, 3), (64, 96, 192, 384)),
    "t": ((3, 3, 6, 3), (96, 128, 256, 512)),
}


def stem(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3x3 stride-2 Conv+BN+ReLU, (B, c_in, H, W) -> (B, c_out, H/4, W/4)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out // 2, 3, 2, 1),
        nn.BatchNorm2d(c_out // 2),
        nn.ReLU(),
        nn.Conv2d(c_out // 2, c_out, 3, 2, 1),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    )


class Embedding(nn.Module):
    """Inter-stage down-sampling Conv3x3 s2 + BN, (B, c_in, H, W) -> (B, c_out, H/2, W/2).

    Examples:
        >>> Embedding(8, 16)(torch.randn(1, 8, 16, 16)).shape
        torch.Size([1, 16, 8, 8])
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.proj = nn.Conv2d(c_in, c_out, 3, 2, 1)
        self.norm = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x))


class AdditiveTokenMixer(nn.Module):
    """CATM: ``proj(dwc(ChOp(SpOp(q)) + ChOp(SpOp(k))) * v)``, q, k, v from a 1x1 C->3C, (B, C, H, W) -> same.

    Examples:
        >>> AdditiveTokenMixer(8)(torch.randn(1, 8, 16, 16)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(self, dim: int):
        super().__init__()
        self.qkv = nn.Conv2d(dim, 3 * dim, 1, bias=False)
        self.oper_q = nn.Sequential(SpatialOperation(dim), ChannelOperation(dim))
        self.oper_k = nn.Sequential(SpatialOperation(dim), ChannelOperation(dim))
        self.dwc = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)
        self.proj = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).chunk(3, dim=1)
        return self.proj(self.dwc(self.oper_q(q) + self.oper_k(k)) * v)


class AdditiveBlock(nn.Module):
    """``x += LI(x); x += CATM(BN(x)); x += MLP(BN(x))``, (B, C, H, W) -> (B, C, H, W).

    Examples:
        >>> AdditiveBlock(8)(torch.randn(1, 8, 16, 16)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(self, dim: int, *, mlp_ratio: float = 4, li_ratio: float = 1):
        super().__init__()
        self.local_perception = LocalIntegration(dim, li_ratio, nn.GELU, nn.BatchNorm2d)
        self.norm1 = nn.BatchNorm2d(dim)
        self.attn = AdditiveTokenMixer(dim)
        self.norm2 = nn.BatchNorm2d(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), nn.GELU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.local_perception(x)
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def load_local_checkpoint(model: nn.Module, path: str | Path) -> tuple[list[str], list[str]]:
    """Load a local checkpoint into ``model`` by name (strict=False), skipping keys whose shapes differ.

    Accepts a bare state dict or one wrapped under "model" / "state_dict" (keys may carry a "module." or "backbone."
    prefix). Logs a warning with the counts and first names of missing and unexpected keys; never downloads.

    Returns:
        (tuple[list[str], list[str]]): Missing keys and unexpected (or shape-mismatched) keys.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If no key of the file matches the model (a checkpoint of another model or variant).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{type(model).__name__}: pretrained checkpoint not found: '{path}'; give a local file")
    with torch.serialization.safe_globals([argparse.Namespace]):  # official checkpoints store their argparse args
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("model", "state_dict"):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            ckpt = ckpt[key]
            break
    if not isinstance(ckpt, dict):
        raise ValueError(f"{type(model).__name__}: '{path}' holds a {type(ckpt).__name__}, not a state dict")
    state = {}
    for k, v in ckpt.items():
        for prefix in ("module.", "backbone."):
            k = k.removeprefix(prefix)
        state[k] = v
    own = model.state_dict()
    matched = {k: v for k, v in state.items() if k in own and getattr(v, "shape", None) == own[k].shape}
    if all(k.endswith("num_batches_tracked") for k in matched):  # BN counters are scalars in every model
        raise ValueError(
            f"{type(model).__name__}: no key of '{path}' matches this model ({len(state)} keys in the file, e.g. "
            f"{list(state)[:3]}); is it a checkpoint of another model or variant?"
        )
    missing = [k for k in own if k not in matched]
    unexpected = [k for k in state if k not in matched]
    model.load_state_dict(matched, strict=False)
    if missing or unexpected:
        LOGGER.warning(
            f"{type(model).__name__}: loaded {len(matched)} tensors from '{path}'; {len(missing)} missing "
            f"(first: {missing[:5]}), {len(unexpected)} unexpected or shape-mismatched (first: {unexpected[:5]})"
        )
    return missing, unexpected


class RCViT(RegisterOnLoad, nn.Module):
    """CAS-ViT backbone returning BN-normalised stage outputs, (B, 3, H, W) -> [(B, Ci, H/2^(i+2), W/2^(i+2)), ...].

    YAML kind "backbone" (parsed like Ultralytics' ``TorchVision``): the row ``[-1, 1, RCViT, [c_out, "xs"]]`` passes
    everything after ``c_out`` to the constructor, and ``Index`` rows pick the levels, e.g. for "xs" with the default
    ``out_indices=(1, 2, 3)``: ``[0, 1, Index, [56, 0]]`` (P3/8), ``[0, 1, Index, [112, 1]]`` (P4/16),
    ``[0, 1, Index, [220, 2]]`` (P5/32). ``channels`` lists the widths of the returned levels; for stages 1, 2, 3 they
    are xs 56/112/220, s 64/128/256, m 96/192/384, t 128/256/512 (``Index`` widths are not width-scaled).

    Args:
        variant (str): One of "xs", "s", "m", "t" (official CAS-ViT configurations).
        pretrained (str | Path | None): Local checkpoint path (official CAS-ViT ImageNet or fork_feat checkpoints
            load by name); None for random initialisation. Nothing is downloaded.
        out_indices (tuple[int, ...]): Stages to return, from 0..3 (strides 4, 8, 16, 32).
        mlp_ratio (float): MLP hidden width ratio (4 in every official variant).
        li_ratio (float): LocalIntegration ratio (1 in every official variant; GFD-Net used 2).

    Examples:
        >>> m = RCViT("xs")
        >>> [f.shape for f in m(torch.randn(1, 3, 64, 64))]
        [torch.Size([1, 56, 8, 8]), torch.Size([1, 112, 4, 4]), torch.Size([1, 220, 2, 2])]
    """

    def __init__(
        self,
        variant: str = "xs",
        pretrained: str | Path | None = None,
        out_indices: tuple[int, ...] | list[int] = (1, 2, 3),
        mlp_ratio: float = 4,
        li_ratio: float = 1,
    ):
        super().__init__()
        if variant not in RCVIT_VARIANTS:
            raise ValueError(f"RCViT: unknown variant '{variant}'; valid variants are {sorted(RCVIT_VARIANTS)}")
        if isinstance(pretrained, bool):  # the GFD-Net README's rcvit_m(pretrained=True) would need a download
            if pretrained:
                raise ValueError("RCViT: pretrained=True is not supported (no downloads); give a local checkpoint path")
            pretrained = None
        out_indices = tuple(out_indices)
        if not out_indices or list(out_indices) != sorted(set(out_indices)) or not set(out_indices) <= {0, 1, 2, 3}:
            raise ValueError(
                f"RCViT: out_indices={out_indices} must be increasing stage indices from 0..3, e.g. (1, 2, 3)"
            )
        layers, dims = RCVIT_VARIANTS[variant]
        self.variant, self.out_indices = variant, out_indices
        self.channels = [dims[i] for i in out_indices]
        self.strides = [2 ** (i + 2) for i in out_indices]
        self.patch_embed = stem(3, dims[0])
        network = []
        for i, (n, c) in enumerate(zip(layers[: out_indices[-1] + 1], dims)):  # later stages would get no gradient
            if i:
                network.append(Embedding(dims[i - 1], c))
            network.append(nn.Sequential(*(AdditiveBlock(c, mlp_ratio=mlp_ratio, li_ratio=li_ratio) for _ in range(n))))
        self.network = nn.ModuleList(network)  # stage i at index 2i, as in the official code
        for i in out_indices:
            self.add_module(f"norm{2 * i}", nn.BatchNorm2d(dims[i]))  # official fork_feat names
        if pretrained:
            load_local_checkpoint(self, pretrained)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.patch_embed(x)
        outs = []
        for idx, block in enumerate(self.network):
            x = block(x)
            if idx % 2 == 0 and idx // 2 in self.out_indices:
                outs.append(getattr(self, f"norm{idx}")(x))
        return outs

    def extra_repr(self) -> str:
        return f"variant={self.variant!r}, out_indices={self.out_indices}"
