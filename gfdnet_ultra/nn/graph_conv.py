"""Dynamic max-relative axial graph convolution: the "DynConv" of GFD-Net's DMF block.

From GreedyViG, "Dynamic Axial Graph Construction for Efficient Vision GNNs" (Munir et al., CVPR 2024,
arXiv:2405.06849), ``DynamicMRConv4d``; max-relative aggregation from Vision GNN (arXiv:2206.00272).
Shape shorthand: B batch, C channels, H x W spatial size, S candidate shifts per axis.

Graph: the candidate neighbours of pixel (h, w) are the pixels ``s`` rows above and ``s`` columns to the left,
cyclically, for the shifts ``s = step, 2*step, ...`` (``step = k`` in the reference). An edge is kept where the
channel L1 distance is below ``mu - sigma`` of the distance between ``x`` and ``x`` rolled by half its size
(per image, unbiased sigma). Aggregation: ``max(0, max_j (x_j - x_i))`` over the kept neighbours.

Deviations from the reference code (measured in docs/graph_conv.md):

* One batched pass instead of a Python loop over every shift: all candidates are gathered at once, the
  distances, mask and arg-max are computed without autograd, and only the chosen neighbour is gathered again
  with autograd. Same outputs (exactly) and gradients (up to ties) as the loop, at a fraction of its time and
  memory.
* At most ``max_shifts`` shifts per axis: ``step = max(k, ceil(L / (max_shifts + 1)))`` for an axis of length
  L, so the step grows with resolution as GreedyViG's per-stage K = 8/4/2/1 does. With ``max_shifts >=
  (L - 1) // k`` the graph is exactly the reference's: the default 20 keeps it exact with k=2 for axes up to
  41 pixels (P4 and P5 at a 640 input) and uses step 4 instead of 2 at P3 (80 x 80).
* Export: the shift set is computed from the traced input size, and a fixed number of slots is used when
  tracing (repeated shifts do not change a maximum), so one ONNX graph serves every input size.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ("DynamicMRConv4d", "axial_shifts", "max_relative_axial")


def axial_shifts(length: int | torch.Tensor, k: int, max_shifts: int, slots: int, device=None) -> torch.Tensor:
    """Non-zero cyclic shifts of one axis, ``(slots,)`` int64; the last valid shift repeats to fill the slots.

    ``length`` may be a traced 0-dim tensor (ONNX export), so the arithmetic is done with tensor ops.
    """
    if not isinstance(length, torch.Tensor):  # traced sizes are already tensors; keep them in the graph
        length = torch.tensor(length, device=device)
    step = torch.clamp((length + max_shifts) // (max_shifts + 1), min=k)
    count = (length - 1) // step  # number of distinct non-zero shifts below length
    t = torch.arange(1, slots + 1, device=device)
    return step * torch.minimum(t, count)


def _shift_slots(length: int, k: int, max_shifts: int) -> int:
    """Slots per axis: exact in eager mode, ``max_shifts`` under tracing so no size is baked into the graph."""
    compiling = getattr(torch.compiler, "is_compiling", lambda: False)()  # torch >= 2.3; dynamo traces symbolic sizes
    if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export() or compiling:
        return max_shifts
    return max(1, min(max_shifts, (length - 1) // k))


def _axis_best(x: torch.Tensor, shifts: torch.Tensor, thr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Best kept relative feature along dim 2 and its shift slot, (B, C, L, M) -> (B, C, L, M) twice; no autograd."""
    n = x.shape[2]
    src = (torch.arange(n, device=x.device) - shifts[:, None]) % n  # (S, L): row r of shift s reads row (r - s) mod L
    cand = x.index_select(2, src.flatten()).unflatten(2, (shifts.shape[0], -1))  # (B, C, S, L, M), whole rows copied
    cand.sub_(x.unsqueeze(2))  # x_j - x_i
    cand.mul_(cand.abs().sum(1, keepdim=True) < thr)  # keep edges whose L1 distance is below the threshold
    return cand.max(2)


def max_relative_axial(x: torch.Tensor, k: int = 2, max_shifts: int = 20) -> torch.Tensor:
    """Masked max-relative aggregation over the dynamic axial graph, (B, C, H, W) -> (B, C, H, W).

    Args:
        x (torch.Tensor[B, C, H, W]): Node features.
        k (int): Smallest step between candidate shifts (GreedyViG's K).
        max_shifts (int): Most non-zero shifts per axis; the step grows with the axis length beyond it.

    Returns:
        (torch.Tensor[B, C, H, W]): ``max(0, max_j (x_j - x_i))`` over the kept neighbours j of each pixel i.

    Examples:
        >>> max_relative_axial(torch.randn(2, 8, 20, 12), k=2, max_shifts=4).shape
        torch.Size([2, 8, 20, 12])
    """
    h, w = x.shape[2], x.shape[3]
    dev = x.device
    rows = torch.arange(h, device=dev)[:, None]  # (H, 1)
    cols = torch.arange(w, device=dev)[None, :]  # (1, W)
    with torch.no_grad():  # the graph (threshold, mask, arg-max) carries no gradient, as in the reference
        half = x.index_select(2, (rows.flatten() + h // 2) % h).index_select(3, (cols.flatten() + w // 2) % w)
        d0 = (x - half).abs().sum(1).flatten(1)  # (B, HW): distance to the roll by ceil(L/2) on both axes
        mu = d0.mean(1, keepdim=True)
        sigma = ((d0 - mu).square().sum(1, keepdim=True) / (d0.shape[1] - 1)).sqrt()  # unbiased; NaN for 1 pixel
        thr = (mu - sigma)[:, :, None, None, None]  # (B, 1, 1, 1, 1); NaN keeps no edge, as in the reference
        sh = axial_shifts(h, k, max_shifts, _shift_slots(h, k, max_shifts), dev)
        sw = axial_shifts(w, k, max_shifts, _shift_slots(w, k, max_shifts), dev)
        best_h, arg_h = _axis_best(x, sh, thr)
        best_w, arg_w = _axis_best(x.transpose(2, 3).contiguous(), sw, thr)
        best_w, arg_w = best_w.transpose(2, 3), arg_w.transpose(2, 3)
        on_h = best_h >= best_w
        row = torch.where(on_h, (rows - sh[arg_h]) % h, rows)
        col = torch.where(on_h, cols, (cols - sw[arg_w]) % w)
        nb = (row * w + col).flatten(2)  # (B, C, HW): flat position of the chosen neighbour
        kept = torch.maximum(best_h, best_w) > 0
    xf = x.flatten(2)
    return (xf.gather(2, nb) - xf).view_as(x) * kept  # gradient reaches the chosen neighbour and the centre only


class DynamicMRConv4d(nn.Module):
    """Dynamic axial graph conv: ``GELU(BN(Conv1x1(cat(x, max_relative_axial(x)))))``, (B, C, H, W) -> (B, C, H, W).

    Args:
        c (int): Channels C of input and output.
        k (int): Smallest step between candidate shifts (GreedyViG's K).
        max_shifts (int): Most non-zero shifts per axis (see :func:`max_relative_axial`).

    Examples:
        >>> m = DynamicMRConv4d(16, k=2)
        >>> m(torch.randn(1, 16, 24, 24)).shape
        torch.Size([1, 16, 24, 24])
    """

    def __init__(self, c: int, k: int = 2, max_shifts: int = 20):
        super().__init__()
        if k < 1:
            raise ValueError(f"DynamicMRConv4d: shift step k must be >= 1, got k={k}")
        if max_shifts < 1:
            raise ValueError(f"DynamicMRConv4d: max_shifts must be >= 1, got max_shifts={max_shifts}")
        self.k, self.max_shifts = k, max_shifts
        self.nn = nn.Sequential(nn.Conv2d(2 * c, c, 1), nn.BatchNorm2d(c), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nn(torch.cat([x, max_relative_axial(x, self.k, self.max_shifts)], 1))

    def extra_repr(self) -> str:
        return f"k={self.k}, max_shifts={self.max_shifts}"
