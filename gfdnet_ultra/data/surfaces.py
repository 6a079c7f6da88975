"""Procedural industrial surfaces for the synthetic defect set: woven fabric, brushed metal, PCB, moulded connector.

Each surface is a grey float32 image in [0, 1] plus a colour tint and a `Surface` record of what defect renderers
need: the inspected part's mask (the rest is a dark bench), the part's visible straight edges (for edge chips) and,
for fabric, the thread pitch (so a missing thread lines up with the weave).
Shape shorthand: S image side in pixels; images are (S, S) grey, tinted to (S, S, 3) BGR at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ("SURFACES", "Surface", "make_surface")

SURFACES = ("fabric", "metal", "pcb", "connector")


@dataclass
class Surface:
    """A rendered surface: grey image (S, S), BGR tint (3,), part mask (S, S) bool, edges [(x1, y1, x2, y2)]."""

    kind: str
    image: np.ndarray
    tint: np.ndarray
    part: np.ndarray
    edges: list[tuple[int, int, int, int]]
    bench: float
    pitch: float = 0.0


def _smooth_noise(rng: np.random.Generator, s: int, ksize: tuple[int, int]) -> np.ndarray:
    """Zero-mean unit-std noise box-blurred with `ksize` (w, h): grain, streaks or mottling."""
    n = cv2.blur(rng.standard_normal((s, s)).astype(np.float32), ksize, borderType=cv2.BORDER_REFLECT)
    return (n - n.mean()) / (n.std() + 1e-6)


def _part_rect(rng: np.random.Generator, s: int, n_sides: int, lo: float, hi: float):
    """Part rectangle leaving a bench margin on `n_sides` random sides; returns (mask, visible edges)."""
    x1, y1, x2, y2 = 0, 0, s, s
    for side in rng.permutation(4)[:n_sides]:
        m = int(rng.uniform(lo, hi) * s)
        if side == 0:
            x1 = m
        elif side == 1:
            y1 = m
        elif side == 2:
            x2 = s - m
        else:
            y2 = s - m
    mask = np.zeros((s, s), bool)
    mask[y1:y2, x1:x2] = True
    edges = []
    if x1 > 0:
        edges.append((x1, y1, x1, y2))
    if y1 > 0:
        edges.append((x1, y1, x2, y1))
    if x2 < s:
        edges.append((x2, y1, x2, y2))
    if y2 < s:
        edges.append((x1, y2, x2, y2))
    return mask, edges


def _fabric(rng: np.random.Generator, s: int) -> tuple[np.ndarray, np.ndarray, float]:
    p = rng.uniform(5.0, 8.0)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    u, v = xx / p, yy / p
    iu, iv = np.floor(u).astype(int), np.floor(v).astype(int)
    gain_u = rng.normal(1.0, 0.05, iu.max() + 1).astype(np.float32)[iu]  # yarn-to-yarn irregularity
    gain_v = rng.normal(1.0, 0.05, iv.max() + 1).astype(np.float32)[iv]
    warp = np.sin(np.pi * (u - iu)) ** 0.7 * (0.85 + 0.15 * np.sin(np.pi * (v - iv))) * gain_u
    weft = np.sin(np.pi * (v - iv)) ** 0.7 * (0.85 + 0.15 * np.sin(np.pi * (u - iu))) * gain_v
    img = np.where((iu + iv) % 2 == 0, warp, weft)  # plain weave: warp over weft on a checkerboard
    img = rng.uniform(0.4, 0.55) + rng.uniform(0.15, 0.25) * img + 0.02 * _smooth_noise(rng, s, (3, 3))
    tint = np.array(rng.choice([(0.9, 0.95, 1.0), (1.0, 0.95, 0.85), (0.85, 0.9, 0.95)]), np.float32)
    return img, tint, p


def _metal(rng: np.random.Generator, s: int) -> tuple[np.ndarray, np.ndarray]:
    streaks = 0.6 * _smooth_noise(rng, s, (max(s // 3, 3), 1)) + 0.4 * _smooth_noise(rng, s, (9, 1))
    img = rng.uniform(0.45, 0.65) + 0.05 * streaks + 0.015 * _smooth_noise(rng, s, (1, 1))
    if rng.random() < 0.5:
        img = img.T.copy()  # brushing direction
    return img, np.array((1.0, 0.98, 0.95), np.float32)


def _pcb(rng: np.random.Generator, s: int) -> tuple[np.ndarray, np.ndarray]:
    img = np.full((s, s), rng.uniform(0.28, 0.36), np.float32) + 0.015 * _smooth_noise(rng, s, (2, 2))
    trace = rng.uniform(0.5, 0.6)
    for _ in range(int(rng.integers(5, 12))):
        pts = [rng.integers(0, s, 2)]
        for k in range(int(rng.integers(2, 5))):
            nxt = pts[-1].copy()
            nxt[k % 2] = rng.integers(0, s)  # Manhattan routing
            pts.append(nxt)
        cv2.polylines(img, [np.array(pts, np.int32)], False, trace, int(rng.integers(2, 5)), cv2.LINE_AA)
    for _ in range(int(rng.integers(4, 10))):
        c, r = tuple(int(v) for v in rng.integers(8, s - 8, 2)), int(rng.integers(3, 6))
        cv2.circle(img, c, r, rng.uniform(0.7, 0.8), -1, cv2.LINE_AA)
        cv2.circle(img, c, max(r // 2 - 1, 1), 0.12, -1, cv2.LINE_AA)  # drilled via
    return img, np.array((0.55, 0.9, 0.5), np.float32)


def _connector(rng: np.random.Generator, s: int, part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    img = rng.uniform(0.55, 0.7) + 0.02 * _smooth_noise(rng, s, (5, 5))
    ys, xs = np.nonzero(part)
    x1, y1, x2, y2 = xs.min(), ys.min(), xs.max(), ys.max()
    rows, cols = int(rng.integers(1, 3)), int(rng.integers(4, 9))
    pw, ph = (x2 - x1) / (cols + 1), (y2 - y1) / (rows + 2)
    for r in range(rows):
        for c in range(cols):
            cx, cy = x1 + pw * (c + 1), y1 + ph * (r + 1.5)
            a, b = (int(cx - pw * 0.3), int(cy - ph * 0.3)), (int(cx + pw * 0.3), int(cy + ph * 0.3))
            cv2.rectangle(img, a, b, 0.18, -1)  # slot in the moulding
            cv2.rectangle(img, (int(cx - pw * 0.08), a[1] + 2), (int(cx + pw * 0.08), b[1] - 2), 0.85, -1)  # pin
    return img, np.array((0.8, 0.92, 1.0), np.float32)


def make_surface(kind: str, rng: np.random.Generator, s: int) -> Surface:
    """Render one surface of `kind` (one of `SURFACES`) at side `s`, bench and part edges included."""
    if kind not in SURFACES:
        raise ValueError(f"make_surface: unknown surface kind {kind!r}; use one of {SURFACES}")
    if kind == "connector":
        part, edges = _part_rect(rng, s, 4, 0.08, 0.2)  # a whole moulded part on the bench
    else:
        part, edges = _part_rect(rng, s, int(rng.integers(1, 3)), 0.06, 0.2)  # a sheet running off the frame
    pitch = 0.0
    if kind == "fabric":
        img, tint, pitch = _fabric(rng, s)
    elif kind == "metal":
        img, tint = _metal(rng, s)
    elif kind == "pcb":
        img, tint = _pcb(rng, s)
    else:
        img, tint = _connector(rng, s, part)
    bench = float(rng.uniform(0.08, 0.18))
    bench_img = bench + 0.02 * _smooth_noise(rng, s, (4, 4))
    img = np.where(part, img, bench_img).astype(np.float32)
    return Surface(kind, img, tint, part, edges, bench, pitch)
