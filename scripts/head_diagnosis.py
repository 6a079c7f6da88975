"""Cheap evidence for the head diagnosis (docs/accuracy.md, "TDSC and CDF diagnosed"): init-time checks and overfitting.

``init``: for each model YAML, the loss terms and per-parameter gradient norms of the head at initialisation on one
fixed batch of the synthetic set, and the optimizer group (Ultralytics' ``build_optimizer``) every head parameter lands
in. ``overfit``: trains each YAML on fixed batches of the first ``--images`` training images (no augmentation, AdamW
as the short recipe, gradient clip 10 as Ultralytics' trainer) and prints the training loss terms and, in eval mode,
those of ``--heldout`` further images every ``--every`` steps. CPU, one thread; seconds to minutes.

    python scripts/head_diagnosis.py init docs/ablation/ablation-pan-fif-tdsc.yaml
    python scripts/head_diagnosis.py overfit docs/ablation/ablation-pan-fif-detect.yaml \
        docs/ablation/ablation-pan-fif-tdsc.yaml --steps 200
"""

from __future__ import annotations

import argparse
import types

import _checkout  # noqa: F401  (puts this checkout first on sys.path)
import cv2
import torch

import gfdnet_ultra  # noqa: F401  (registers the layers)
from gfdnet_ultra.data.synthetic import SHORT_RECIPE, synthetic_dataset


def fixed_batch(first: int, n: int, total: int, imgsz: int) -> dict[str, torch.Tensor]:
    """Training images ``first .. first+n-1`` of the synthetic set (``n_train=total``) as one Ultralytics batch."""
    root = synthetic_dataset(n_train=total, n_val=2, imgsz=imgsz).parent
    imgs, idx, cls, boxes = [], [], [], []
    for i, p in enumerate(sorted((root / "images" / "train").glob("*.png"))[first : first + n]):
        imgs.append(torch.from_numpy(cv2.imread(str(p))[:, :, ::-1].transpose(2, 0, 1).copy()).float() / 255)
        for line in (root / "labels" / "train" / f"{p.stem}.txt").read_text().splitlines():
            if line.strip():
                c, *xywh = (float(v) for v in line.split())
                idx.append(i), cls.append(c), boxes.append(xywh)
    return {
        "img": torch.stack(imgs),
        "batch_idx": torch.tensor(idx, dtype=torch.float32),
        "cls": torch.tensor(cls)[:, None],
        "bboxes": torch.tensor(boxes).view(-1, 4),
    }


def build(yaml: str, nc: int, seed: int):
    """A ``DetectionModel`` from ``yaml`` with Ultralytics' default hyper-parameters (box/cls/dfl gains) attached."""
    from ultralytics.cfg import get_cfg
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(seed)
    model = DetectionModel(yaml, nc=nc, verbose=False)
    model.args = get_cfg()
    return model


def optimizer(model, lr: float, decay: float) -> torch.optim.Optimizer:
    """Ultralytics' own parameter grouping (``BaseTrainer.build_optimizer``), AdamW as the short recipe."""
    from ultralytics.engine.trainer import BaseTrainer

    host = types.SimpleNamespace(args=model.args, data={"nc": model.yaml["nc"]})
    return BaseTrainer.build_optimizer(host, model, name="AdamW", lr=lr, momentum=0.9, decay=decay)


def _grad_norm(params) -> float:
    return float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params if p.grad is not None])))


def init_report(yaml: str, batch: dict, nc: int, seed: int) -> None:
    model = build(yaml, nc, seed).train()
    loss, items = model.loss(batch)
    loss.sum().backward()
    print(f"== {yaml}: initial " + ", ".join(f"{k} {float(v):.3f}" for k, v in items.items()))
    head = {id(p) for p in model.model[-1].parameters()}
    total, rest = _grad_norm(model.parameters()), _grad_norm(p for p in model.parameters() if id(p) not in head)
    print(f"gradient norm: model {total:.1f}, backbone+neck {rest:.1f} (Ultralytics' trainer clips the model's at 10)")
    groups = {}
    for g in optimizer(model, 0.002, 5e-4).param_groups:
        groups.update({id(p): f"{g['param_group']} (decay {g['weight_decay']:g})" for p in g["params"]})
    for name, p in model.model[-1].named_parameters():
        grad = 0.0 if p.grad is None else float(p.grad.norm())
        print(f"{name:40s} {str(tuple(p.shape)):16s} |w| {float(p.norm()):9.3g}  |grad| {grad:9.3g}  {groups[id(p)]}")


def _terms(items: dict) -> str:
    return " ".join(f"{float(v):.3f}" for v in items.values())


def overfit(yaml: str, batches: list[dict], heldout: dict, nc: int, seed: int, steps: int, every: int) -> None:
    model = build(yaml, nc, seed).train()
    opt = optimizer(model, SHORT_RECIPE["lr0"], 5e-4)
    print(f"== {yaml}: step | train box cls dfl | held-out box cls dfl")
    for step in range(1, steps + 1):
        loss, items = model.loss(batches[(step - 1) % len(batches)])
        opt.zero_grad()
        loss.sum().backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
        opt.step()
        if step % every == 0 or step == 1:
            model.eval()
            with torch.no_grad():
                held = model.loss(heldout)[1]
            model.train()
            print(f"{step:5d} | {_terms(items)} | {_terms(held)}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("init", "overfit"))
    ap.add_argument("yamls", nargs="+", help="model YAMLs, e.g. docs/ablation/ablation-pan-fif-tdsc.yaml")
    ap.add_argument("--images", type=int, default=48, help="training images (fixed batches of 16)")
    ap.add_argument("--heldout", type=int, default=16, help="further images whose loss is reported (eval mode)")
    ap.add_argument("--imgsz", type=int, default=SHORT_RECIPE["imgsz"])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--every", type=int, default=25, help="print the losses every this many steps")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    total, bs = args.images + args.heldout, 16
    batches = [fixed_batch(i, min(bs, args.images - i), total, args.imgsz) for i in range(0, args.images, bs)]
    heldout = fixed_batch(args.images, args.heldout, total, args.imgsz)
    nc = 6  # the synthetic set's classes
    for yaml in args.yamls:
        if args.mode == "init":
            init_report(yaml, batches[0], nc, args.seed)
        else:
            overfit(yaml, batches, heldout, nc, args.seed, args.steps, args.every)


if __name__ == "__main__":
    main()
