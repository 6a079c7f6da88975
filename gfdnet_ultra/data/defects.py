"""Defect renderers for the synthetic set: scratch, spot, crack, bubble, edge_chip, missing_thread.

Each renderer draws one small, low-contrast defect into a grey float32 surface image in place and returns its
footprint (alpha in [0, 1]); the generator takes the box from the footprint, so boxes are tight by construction.
Looks: scratch = thin bright or dark slightly curved line; spot = soft blob (stain or speck); crack = dark branching
random-walk polyline; bubble = dark ring with a bright interior and a specular highlight; edge_chip = notch at the
part's edge filled with the bench and a bright fracture rim; missing_thread = a thread-wide gap (the shadowed
backing) along the weave, or a short band of lost texture on other surfaces.
Shape shorthand: S image side; images and footprints are (S, S) float32.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .surfaces import Surface

__all__ = ("DEFECT_NAMES", "RENDERERS", "footprint_box")

DEFECT_NAMES = ("scratch", "spot", "crack", "bubble", "edge_chip", "missing_thread")


def _pick(rng: np.random.Generator, surf: Surface, margin: int) -> np.ndarray:
    """A random (x, y) inside the part, at least `margin` px from its border and the frame."""
    inner = surf.part.copy()
    inner[:margin], inner[-margin:], inner[:, :margin], inner[:, -margin:] = False, False, False, False
    ys, xs = np.nonzero(inner)
    i = rng.integers(len(xs))
    return np.array((xs[i], ys[i]), np.float64)


def _sign(rng: np.random.Generator) -> float:
    return 1.0 if rng.random() < 0.5 else -1.0


def _scratch(img: np.ndarray, rng: np.random.Generator, surf: Surface) -> np.ndarray:
    s = img.shape[0]
    p0, theta, length = _pick(rng, surf, 6), rng.uniform(0, np.pi), max(rng.uniform(0.06, 0.3) * s, 10.0)
    d, n = np.array((np.cos(theta), np.sin(theta))), np.array((-np.sin(theta), np.cos(theta)))
    bend = rng.uniform(-0.08, 0.08) * length
    pts = np.stack([p0, p0 + d * length / 2 + n * bend, p0 + d * length]).round().astype(np.int32)
    alpha = np.zeros_like(img)
    cv2.polylines(alpha, [pts], False, 1.0, max(round(rng.uniform(0.012, 0.02) * s), 2), cv2.LINE_AA)
    alpha *= surf.part
    img += _sign(rng) * rng.uniform(0.25, 0.45) * alpha
    return alpha


def _spot(img: np.ndarray, rng: np.random.Generator, surf: Surface) -> np.ndarray:
    s = img.shape[0]
    c = _pick(rng, surf, 10).round().astype(int)
    axes = tuple(max(int(rng.uniform(0.02, 0.045) * s), 4) for _ in range(2))
    alpha = np.zeros_like(img)
    cv2.ellipse(alpha, tuple(c), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
    alpha = cv2.GaussianBlur(alpha, (0, 0), rng.uniform(0.8, 1.6)) * surf.part
    img += _sign(rng) * rng.uniform(0.25, 0.4) * alpha
    return alpha


def _crack(img: np.ndarray, rng: np.random.Generator, surf: Surface) -> np.ndarray:
    s = img.shape[0]
    step = max(s / 64, 2.5)

    def walk(p: np.ndarray, theta: float, n: int) -> np.ndarray:
        pts = [p]
        for _ in range(n):
            theta += rng.uniform(-0.6, 0.6)
            pts.append(pts[-1] + step * rng.uniform(0.7, 1.5) * np.array((np.cos(theta), np.sin(theta))))
        return np.array(pts)

    theta = rng.uniform(0, 2 * np.pi)
    trunk = walk(_pick(rng, surf, 12), theta, int(rng.integers(6, 11)))
    lines = [trunk] + [
        walk(trunk[int(rng.integers(1, len(trunk)))], theta + _sign(rng) * rng.uniform(0.5, 1.2), int(rng.integers(2, 5)))
        for _ in range(int(rng.integers(1, 3)))
    ]
    alpha = np.zeros_like(img)
    thickness = max(round(s / 100 * rng.uniform(1.0, 1.5)), 1)
    cv2.polylines(alpha, [ln.round().astype(np.int32) for ln in lines], False, 1.0, thickness, cv2.LINE_AA)
    alpha *= surf.part
    img *= 1.0 - rng.uniform(0.55, 0.8) * alpha
    return alpha


def _bubble(img: np.ndarray, rng: np.random.Generator, surf: Surface) -> np.ndarray:
    s = img.shape[0]
    c, r = _pick(rng, surf, 12), max(int(rng.uniform(0.025, 0.045) * s), 5)
    ci = tuple(int(v) for v in c.round())
    ring, inner, spec = np.zeros_like(img), np.zeros_like(img), np.zeros_like(img)
    cv2.circle(ring, ci, r, 1.0, 1, cv2.LINE_AA)
    cv2.circle(inner, ci, r - 1, 1.0, -1, cv2.LINE_AA)
    hl = tuple(int(v) for v in (c - r / 3).round())
    cv2.circle(spec, hl, max(r // 4, 1), 1.0, -1, cv2.LINE_AA)
    spec = cv2.GaussianBlur(spec, (0, 0), 0.7)
    img += rng.uniform(0.06, 0.12) * inner - rng.uniform(0.25, 0.4) * ring + rng.uniform(0.25, 0.4) * spec
    return np.maximum(np.maximum(ring, inner), spec) * surf.part


def _edge_chip(img: np.ndarray, rng: np.random.Generator, surf: Surface) -> np.ndarray:
    s = img.shape[0]
    x1, y1, x2, y2 = surf.edges[int(rng.integers(len(surf.edges)))]
    vertical = x1 == x2
    lo, hi = (y1, y2) if vertical else (x1, x2)
    t = rng.uniform(lo + 0.08 * s, hi - 0.08 * s) if hi - lo > 0.2 * s else (lo + hi) / 2
    base = np.array((x1, t) if vertical else (t, y1), np.float64)
    probe = base + (np.array((2, 0)) if vertical else np.array((0, 2)))
    px, py = np.clip(probe.astype(int), 0, s - 1)
    inward = (np.array((1.0, 0.0)) if vertical else np.array((0.0, 1.0))) * (1 if surf.part[py, px] else -1)
    along = np.array((0.0, 1.0)) if vertical else np.array((1.0, 0.0))
    depth, width = max(rng.uniform(0.015, 0.04) * s, 4.0), max(rng.uniform(0.03, 0.08) * s, 10.0)
    ts = np.linspace(-width / 2, width / 2, int(rng.integers(4, 7)))
    bulge = np.sin(np.linspace(0, np.pi, len(ts)))[1:-1] * depth * rng.uniform(0.6, 1.0, len(ts) - 2)
    rim = [base + along * ts[0]] + [base + along * t + inward * b for t, b in zip(ts[1:-1], bulge)]
    rim.append(base + along * ts[-1])
    poly = np.array(rim + [base + along * ts[-1] - inward * 3, base + along * ts[0] - inward * 3]).round().astype(np.int32)
    notch, edge = np.zeros_like(img), np.zeros_like(img)
    cv2.fillPoly(notch, [poly], 1.0, cv2.LINE_AA)
    cv2.polylines(edge, [np.array(rim).round().astype(np.int32)], False, 1.0, 1, cv2.LINE_AA)
    notch *= surf.part
    img[:] = img * (1 - notch) + surf.bench * notch + rng.uniform(0.1, 0.2) * edge * surf.part
    return np.maximum(notch, edge * surf.part)


def _missing_thread(img: np.ndarray, rng: np.random.Generator, surf: Surface) -> np.ndarray:
    s = img.shape[0]
    c, length = _pick(rng, surf, 10), max(rng.uniform(0.06, 0.25) * s, 10.0)
    horizontal = rng.random() < 0.5
    if surf.pitch:  # on the weave: centre on a thread, one thread wide
        k = np.floor(c[1 if horizontal else 0] / surf.pitch)
        c[1 if horizontal else 0], width = (k + 0.5) * surf.pitch, 0.8 * surf.pitch
    else:
        width = rng.uniform(2, 4)
    half = np.array((length, width) if horizontal else (width, length)) / 2
    alpha = np.zeros_like(img)
    cv2.rectangle(alpha, tuple((c - half).round().astype(int)), tuple((c + half).round().astype(int)), 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.6) * surf.part
    gap = cv2.blur(img, (9, 9)) * (1 - rng.uniform(0.4, 0.6))
    img[:] = img * (1 - alpha) + gap * alpha
    return alpha


RENDERERS: dict[str, Callable[[np.ndarray, np.random.Generator, Surface], np.ndarray]] = {
    "scratch": _scratch,
    "spot": _spot,
    "crack": _crack,
    "bubble": _bubble,
    "edge_chip": _edge_chip,
    "missing_thread": _missing_thread,
}


def footprint_box(alpha: np.ndarray, thresh: float = 0.2) -> tuple[int, int, int, int] | None:
    """Tight pixel box `(x1, y1, x2, y2)` (x2, y2 exclusive) of `alpha > thresh`, padded by 1 px; None if empty."""
    ys, xs = np.nonzero(alpha > thresh)
    if len(xs) == 0:
        return None
    h, w = alpha.shape
    return max(int(xs.min()) - 1, 0), max(int(ys.min()) - 1, 0), min(int(xs.max()) + 2, w), min(int(ys.max()) + 2, h)
