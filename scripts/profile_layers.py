"""Per-layer CPU latency of GFD-Net against YOLO11n, measured side by side in one process (interleaved repetitions).

Every model is built from its YAML, put in eval mode, fused (``model.fuse()``, which also runs our layers' ``fuse()``)
and run under ``torch.inference_mode`` at batch 1. Per-layer times come from the package's one per-layer profiler,
``gfdnet_ultra.bench.layer_profile`` (a clock around each top-level layer of ``model.model``); the ONNX and training-step
timings interleave the models (each repetition runs every model once, in turn, so load hits all of them alike).
With ``--onnx`` the models are also exported (``YOLO(...).export(format="onnx")``) and timed in onnxruntime;
``--onnx-profile`` prints onnxruntime's own per-node profile (kernel time by op type and by top-level layer) instead;
``--train-step`` times a training step (forward and backward, train mode, sum of squared outputs as the loss) instead.

Usage (imports the installed package: ``make install`` first, or prefix ``PYTHONPATH=.``):
    python scripts/profile_layers.py --models gfdnet-n.yaml yolo11n.yaml --imgsz 640 --threads 2 --reps 7 [--onnx]
    python scripts/profile_layers.py --torch-profile gfdnet-n.yaml   # torch.profiler per-op table instead
    python scripts/profile_layers.py --onnx-profile gfdnet-n.yaml --threads 1     # onnxruntime per-op / per-layer
    python scripts/profile_layers.py --train-step --imgsz 160 --batch 16 --threads 1
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
from collections import Counter
from pathlib import Path

import torch

__all__ = ("build", "onnx_latency", "onnx_profile", "profile_layers", "profile_ops", "train_step_latency")


def build(cfg: str, imgsz: int = 640) -> torch.nn.Module:
    """Build a model from a YAML name, eval, fused, gradients off; returns the ``DetectionModel``."""
    import gfdnet_ultra

    gfdnet_ultra.register()
    from ultralytics import YOLO

    model = YOLO(cfg).model.eval()
    model.fuse(verbose=False)  # verbose would count FLOPs with thop first
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.inference_mode():
        model(torch.zeros(1, 3, imgsz, imgsz))  # warm-up, sets strides / anchors
    return model


def profile_layers(cfgs: list[str], imgsz: int = 640, reps: int = 7, threads: int = 2) -> dict[str, dict]:
    """Median per-layer latency (seconds) of every model, batch 1, by the package's one per-layer profiler
    (`gfdnet_ultra.bench.layer_profile`). Returns ``{cfg: {"total": float, "layers": {name: float}}}``."""
    from gfdnet_ultra.bench.layer_profile import layer_profile

    torch.set_num_threads(threads)
    res = {}
    for c in cfgs:
        rows = layer_profile(build(c, imgsz), imgsz, reps)
        layers = {f"{r['i']:>2} {r['type'].rsplit('.', 1)[-1]}": r["ms"] / 1e3 for r in rows}
        res[c] = {"total": sum(layers.values()), "layers": layers}
    return res


def _onnx_sessions(cfgs: list[str], imgsz: int, threads: int, profile_dir: Path | None = None) -> dict:
    """One onnxruntime CPU session per model, from ``YOLO(cfg).export(format="onnx", imgsz=imgsz)``; with
    ``profile_dir``, sessions write onnxruntime's profile there."""
    import onnxruntime as ort

    import gfdnet_ultra

    gfdnet_ultra.register()
    from ultralytics import YOLO

    sessions = {}
    with tempfile.TemporaryDirectory() as tmp:
        for c in cfgs:
            pt = Path(tmp) / f"{Path(c).stem}.pt"
            YOLO(c).save(pt)
            f = YOLO(pt).export(format="onnx", imgsz=imgsz, verbose=False)
            so = ort.SessionOptions()
            so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
            if profile_dir:
                so.enable_profiling, so.profile_file_prefix = True, str(profile_dir / "ort")
            sessions[c] = ort.InferenceSession(f, so, providers=["CPUExecutionProvider"])
    return sessions


def _image(imgsz: int):
    import numpy as np

    return np.random.default_rng(0).standard_normal((1, 3, imgsz, imgsz), dtype=np.float32)


def onnx_latency(cfgs: list[str], imgsz: int = 640, reps: int = 7, threads: int = 2) -> dict[str, float]:
    """Median onnxruntime latency (seconds) of each model's ``YOLO.export(format="onnx")`` graph, interleaved reps."""
    from gfdnet_ultra.bench.latency import interleave

    sessions, x = _onnx_sessions(cfgs, imgsz, threads), _image(imgsz)
    runners = {c: lambda s=s: s.run(None, {s.get_inputs()[0].name: x}) for c, s in sessions.items()}
    return {c: statistics.median(v) for c, v in interleave(runners, reps, warmup=1).items()}


def onnx_profile(cfg: str, imgsz: int = 640, threads: int = 1, reps: int = 5) -> dict[str, Counter]:
    """onnxruntime's per-node profile of ``reps`` runs: mean kernel seconds by op type and by top-level layer index."""
    with tempfile.TemporaryDirectory() as tmp:
        s, x = _onnx_sessions([cfg], imgsz, threads, Path(tmp))[cfg], _image(imgsz)
        s.run(None, {s.get_inputs()[0].name: x})  # warm-up, counted out below
        for _ in range(reps):
            s.run(None, {s.get_inputs()[0].name: x})
        trace = json.loads(Path(s.end_profiling()).read_text())
    events = [e for e in trace if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
    by_op, by_layer = Counter(), Counter()
    for e in events[len(events) // (reps + 1) :]:  # every run has the same nodes; drop the warm-up's
        sec = e["dur"] * 1e-6 / reps
        by_op[e["args"]["op_name"]] += sec
        layer = re.match(r"/model\.(\d+)/", e["name"])
        by_layer[f"{int(layer[1]):>2}" if layer else "other"] += sec
    return {"op": by_op, "layer": by_layer}


def train_step_latency(cfgs: list[str], imgsz: int = 160, batch: int = 16, reps: int = 5, threads: int = 1) -> dict:
    """Median seconds of forward + backward in train mode (loss: sum of squared outputs), interleaved reps.

    The detection loss and the optimiser step are left out: they cost the same for every model.
    """
    from ultralytics.nn.tasks import DetectionModel

    import gfdnet_ultra

    gfdnet_ultra.register()
    from gfdnet_ultra.bench.latency import interleave

    torch.set_num_threads(threads)
    x = torch.randn(batch, 3, imgsz, imgsz)

    def step(m: torch.nn.Module) -> None:
        out = m(x)
        outs = out.values() if isinstance(out, dict) else out if isinstance(out, (list, tuple)) else [out]
        sum(o.float().square().mean() for o in outs if isinstance(o, torch.Tensor)).backward()

    runners = {c: lambda m=DetectionModel(c, verbose=False).train(): step(m) for c in cfgs}
    return {c: statistics.median(v) for c, v in interleave(runners, reps, warmup=1).items()}


def profile_ops(cfg: str, imgsz: int = 640, threads: int = 1, rows: int = 30) -> str:
    """torch.profiler table of one fused inference (ops sorted by self CPU time)."""
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(threads)
    model = build(cfg, imgsz)
    x = torch.randn(1, 3, imgsz, imgsz)
    with torch.inference_mode():
        model(x)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            model(x)
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)


def _table(res: dict[str, dict], ref: str | None) -> str:
    lines = []
    for c, r in res.items():
        lines.append(f"\n{c}: total {r['total'] * 1e3:.1f} ms (sum of the layers' medians)")
        tot = sum(r["layers"].values())
        for k, v in r["layers"].items():
            lines.append(f"  {k:<24} {v * 1e3:8.1f} ms  {100 * v / tot:5.1f} %")
    if ref in res:
        lines.append("")
        lines += [f"ratio {c} / {ref}: {r['total'] / res[ref]['total']:.2f}" for c, r in res.items() if c != ref]
    return "\n".join(lines)


def _ratios(times: dict[str, float], ref: str | None, title: str) -> str:
    lines = [f"\n{title}:"]
    for c, t in times.items():
        ratio = f"  ({t / times[ref]:.2f}x {ref})" if ref and c != ref else ""
        lines.append(f"  {c:<20} {t * 1e3:8.1f} ms{ratio}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["gfdnet-n.yaml", "yolo11n.yaml"])
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--batch", type=int, default=16, help="batch of --train-step")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--onnx", action="store_true", help="also time onnxruntime on the exported graphs")
    ap.add_argument("--torch-profile", metavar="CFG", help="print a torch.profiler per-op table for CFG and exit")
    ap.add_argument("--onnx-profile", metavar="CFG", help="print onnxruntime's per-op and per-layer profile and exit")
    ap.add_argument("--train-step", action="store_true", help="time forward + backward in train mode and exit")
    a = ap.parse_args()
    ref = next((c for c in a.models if "yolo11n" in c), None)
    if a.torch_profile:
        print(profile_ops(a.torch_profile, a.imgsz, a.threads))
    elif a.onnx_profile:
        prof = onnx_profile(a.onnx_profile, a.imgsz, a.threads, a.reps)
        total = sum(prof["op"].values())
        print(f"{a.onnx_profile}: onnxruntime kernel time {total * 1e3:.1f} ms per run (profiling adds overhead)")
        for key in ("op", "layer"):
            print(f"\nby {key}:")
            for k, v in prof[key].most_common(20):
                print(f"  {k:<24} {v * 1e3:8.1f} ms  {100 * v / total:5.1f} %")
    elif a.train_step:
        times = train_step_latency(a.models, a.imgsz, a.batch, a.reps, a.threads)
        print(_ratios(times, ref, f"training step, batch {a.batch} at {a.imgsz} px, {a.threads} thread(s)"))
    else:
        print(_table(profile_layers(a.models, a.imgsz, a.reps, a.threads), ref))
        if a.onnx:
            print(_ratios(onnx_latency(a.models, a.imgsz, a.reps, a.threads), ref, "onnxruntime"))


if __name__ == "__main__":
    main()
