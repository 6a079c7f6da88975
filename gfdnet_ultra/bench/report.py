"""Render suite results: `docs/benchmarks.md` (tables with ratios to YOLO11n, method, device, command), a JSON dump and
a plot (mAP50-95 against PyTorch latency when some mAP is non-zero, PyTorch and ORT latency bars otherwise, mAP50-95
bars per model for accuracy-only runs) and, for accuracy runs, their per-epoch curves (a table and
`<stem>_curves.png`), per-class AP50 and, without latency figures, where gfdnet-n stands against each peer.
"""

from __future__ import annotations

import json
from pathlib import Path

from .curves import curves_table, plot_curves
from .suite import RECIPES

__all__ = ("TARGETS", "expected_figures", "render_markdown", "write_report")

MISSING = "—"
TARGETS = (  # (figure key, comparison, bound, relative to): issue 6 targets for gfdnet-n
    ("params", "<=", 2.1e6, None),
    ("gflops", "<=", 8.5, None),
    ("pt_b1", "<=", 1.3, "yolo11n"),
    ("ort_b1", "<=", 1.3, "yolo11n"),
    ("train_epoch_s", "<=", 1.5, "yolo11n"),
    ("map50_95", ">=", 1.0, "yolo11n"),
    ("map50_95", ">=", 1.0, "yolo26n"),
)


def expected_figures(cfg: dict) -> list[str]:
    """Row keys every built model must carry for the phases `cfg` (a `Config` as dict) asked for.

    Examples:
        >>> expected_figures({"batches": [1], "onnx": False, "memory": False, "train_time": False, "accuracy": False})
        ['params', 'gflops', 'pt_b1']
    """
    backends = ("pt", "ort") if cfg["onnx"] else ("pt",)
    backends += ("ov",) if cfg["onnx"] and cfg.get("openvino") else ()
    keys = ["params", "gflops"] + [f"{be}_b{b}" for be in backends for b in cfg["batches"]]
    keys += ["mem_b1_mib"] * cfg["memory"] + ["train_epoch_s"] * cfg["train_time"]
    return keys + ["map50", "map50_95", "acc_device"] * (cfg["accuracy"] and not cfg.get("accuracy_models"))


def _value(v) -> float | None:
    return v["median_ms"] if isinstance(v, dict) else v


def _ratio(row: dict, base: dict | None, key: str) -> str:
    a, b = _value(row.get(key)), _value((base or {}).get(key))
    return f"{a / b:.2f}×" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else MISSING


def _accuracy_seeds(cfg: dict) -> list[int]:
    """Seeds of the accuracy trainings; results written before `accuracy_seeds` existed trained the recipe's seed."""
    return list(cfg.get("accuracy_seeds") or (cfg["accuracy_recipe"]["seed"],))


def _columns(cfg: dict, rows: dict) -> list[tuple[str, str, callable, bool]]:
    """(header, key, formatter, with a ratio column) per figure; wall time only where runs recorded it."""
    ms = lambda s: f"{s['median_ms']:.1f} [{s['p10_ms']:.1f}–{s['p90_ms']:.1f}]"  # noqa: E731
    cols = [("Params (M)", "params", lambda v: f"{v / 1e6:.3f}", True)]
    cols.append((f"GFLOPs@{cfg['flops_imgsz']}", "gflops", lambda v: f"{v:.2f}", True))
    for be, label in (("pt", "PyTorch"), ("ort", "ORT"), ("ov", "OpenVINO")):
        if be == "pt" or cfg["onnx"] and (be == "ort" or cfg.get("openvino")):
            cols += [(f"{label} b{b} ms", f"{be}_b{b}", ms, b == 1) for b in cfg["batches"]]
    if cfg["memory"]:
        cols.append(("Peak MiB b1", "mem_b1_mib", lambda v: f"{v:.1f}", False))
    if cfg["train_time"]:
        cols.append(("Train s/epoch", "train_epoch_s", lambda v: f"{v:.2f}", True))
    if cfg["accuracy"]:
        recipe = cfg.get("recipe", "short")
        cols += [(f"mAP50 ({recipe})", "map50", lambda v: f"{v:.3f}", False)]
        cols += [(f"mAP50-95 ({recipe})", "map50_95", lambda v: f"{v:.3f}", True)]
        if len(_accuracy_seeds(cfg)) > 1:
            cols.append(("mAP50 per seed", "acc_runs", lambda runs: _per_seed(runs, "map50"), False))
            cols.append(("mAP50-95 per seed", "acc_runs", _per_seed, False))
        if any("acc_wall_s" in r for r in rows.values()):  # results written before it was recorded have none
            cols.append(("Train wall min", "acc_wall_s", lambda v: f"{v / 60:.1f}", False))
        cols.append(("Acc. device", "acc_device", str, False))
    return cols


def _per_seed(runs: list[dict], key: str = "map50_95") -> str:
    """'0.121 / 0.133 (seeds 0, 1)': every accuracy run of a model, so the spread behind the mean is visible."""
    return " / ".join(f"{r[key]:.3f}" for r in runs) + f" (seeds {', '.join(str(r['seed']) for r in runs)})"


def _results_table(res: dict) -> list[str]:
    cfg, rows = res["config"], res["rows"]
    base = rows.get("yolo11n")
    cols = _columns(cfg, rows)
    head = ["Model"] + [h for h, _, _, r in cols for h in ((h, "×YOLO11n") if r else (h,))]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in rows.items():
        cells = [name]
        for _, key, fmt, with_ratio in cols:
            cells.append(fmt(row[key]) if row.get(key) is not None else MISSING)
            if with_ratio:
                cells.append(_ratio(row, base, key))
        out.append("| " + " | ".join(cells) + " |")
    return out


def _targets(res: dict) -> list[str]:
    rows = res["rows"]
    if "gfdnet-n" not in rows:
        return ["gfdnet-n was not measured in this run, so its targets are not evaluated."]
    out = ["| Target (gfdnet-n) | Measured | Holds |", "|---|---|---|"]
    for key, op, bound, rel in TARGETS:
        a = _value(rows["gfdnet-n"].get(key))
        b = _value(rows.get(rel, {}).get(key)) if rel else 1.0
        if a is None or b is None or (not b and not key.startswith("map")):
            out.append(f"| {key} {op} {bound}{'× ' + rel if rel else ''} | not measured | {MISSING} |")
            continue
        if key.startswith("map"):  # accuracy: compared as values (a ratio of two zeros says nothing)
            verdict = "undecided (both 0: recipe too short)" if a == b == 0 else "yes" if a >= b else "**no**"
            out.append(f"| {key} >= {rel} | {a:.4f} vs {b:.4f} | {verdict} |")
            continue
        v = a / b if rel else a
        ok = v <= bound if op == "<=" else v >= bound
        shown = f"{v:.2f}× {rel}" if rel else (f"{v / 1e6:.3f} M" if key == "params" else f"{v:.2f}")
        target = f"{op} {bound}× {rel}" if rel else (f"{op} {bound / 1e6:.1f} M" if key == "params" else f"{op} {bound}")
        out.append(f"| {key} {target} | {shown} | {'yes' if ok else '**no**'} |")
    return out


def _standing(res: dict) -> list[str]:
    """gfdnet-n against every other trained model: mean differences and the seeds on which it is ahead."""
    rows = res["rows"]
    me = rows.get("gfdnet-n", {})
    if not me.get("acc_runs"):
        return ["gfdnet-n was not trained in this run."]
    out = ["| gfdnet-n vs | Δ mAP50 (mean) | Δ mAP50-95 (mean) | seeds where gfdnet-n's mAP50-95 is higher |",
           "|---|---|---|---|"]
    mine = {r["seed"]: r["map50_95"] for r in me["acc_runs"]}
    for name, row in rows.items():
        if name == "gfdnet-n" or not row.get("acc_runs"):
            continue
        theirs = {r["seed"]: r["map50_95"] for r in row["acc_runs"]}
        common = sorted(set(mine) & set(theirs))
        ahead = [s for s in common if mine[s] > theirs[s]]
        out.append(f"| {name} | {me['map50'] - row['map50']:+.3f} | {me['map50_95'] - row['map50_95']:+.3f} | "
                   f"{len(ahead)} of {len(common)}{' (' + ', '.join(map(str, ahead)) + ')' if ahead else ''} |")
    return out


def _per_class_table(res: dict) -> list[str]:
    """AP50 per class (mean over seeds) of every trained model; empty when no run reported classes."""
    rows = {n: r["ap50_per_class"] for n, r in res["rows"].items() if r.get("ap50_per_class")}
    if not rows:
        return []
    classes = list(next(iter(rows.values())))
    out = ["| Model | " + " | ".join(classes) + " |", "|" + "---|" * (len(classes) + 1)]
    for name, ap in rows.items():
        out.append(f"| {name} | " + " | ".join(f"{ap[c]:.3f}" if c in ap else MISSING for c in classes) + " |")
    return out


def _data_line(res: dict) -> str:
    d = res.get("dataset", res["config"]["data"])
    if "yaml" not in d:
        return (f"- Data: synthetic defect set (`gfdnet_ultra.data.synthetic.make_synthetic_dataset`, {d['n_train']} "
                f"train / {d['n_val']} val images at {d['imgsz']} px, seed {d['seed']}, 6 classes).")
    splits = "; ".join(f"{k}: {v['images']} images ({v['normal']} normal), {v['boxes']} boxes" for k, v in d["splits"].items())
    return f"- Data: `{d['yaml']}`, {len(d['names'])} classes ({', '.join(d['names'])}); {splits}."


def _flops_table(res: dict) -> list[str]:
    out = ["| Model | thop+functional GFLOPs | of which functional | Ultralytics `get_flops` (stride proxy) | Top "
           "functional ops (GFLOPs) |", "|---|---|---|---|---|"]
    for name, row in res["rows"].items():
        top = ", ".join(f"{k} {v:.3f}" for k, v in list(row.get("functional_ops", {}).items())[:4])
        figs = " | ".join(f"{row[k]:.3f}" for k in ("gflops", "gflops_functional", "gflops_ultralytics"))
        out.append(f"| {name} | {figs} | {top} |")
    return out


def _profile_table(prof: dict) -> list[str]:
    layers = sorted(prof["layers"], key=lambda r: -r["ms"])
    s = prof["imgsz"]
    out = [f"Per-layer profile of {prof['model']} (PyTorch, batch 1, {s}x{s}, median ms), slowest first:", ""]
    out += ["| Layer | Type | Params | GFLOPs | ms | Share |", "|---|---|---|---|---|---|"]
    for r in layers:
        out.append(f"| {r['i']} | {r['type']} | {r['params']} | {r['gflops']:.3f} | {r['ms']:.2f} | {100 * r['share']:.1f}% |")
    return out


def _curves(res: dict) -> dict[str, list[float]]:
    """'<model> seed <k>' -> mAP50-95 per epoch, for every accuracy run that kept its curve (older results did not)."""
    return {
        f"{name} seed {run['seed']}": run["curve"]
        for name, row in res["rows"].items()
        for run in row.get("acc_runs", ())
        if run.get("curve")
    }


def _curve_epochs(curves: dict[str, list[float]]) -> tuple[int, ...]:
    """About five evenly spaced epochs to tabulate before the last (which the table always shows)."""
    n = max(len(c) for c in curves.values())
    step = max(1, n // 6)
    return tuple(range(step, n, step))


def render_markdown(res: dict, command: str) -> str:
    """The benchmark note as markdown."""
    cfg, env = res["config"], res["env"]
    v = env["versions"]
    lines = ["# Benchmarks", "", "Generated by `scripts/benchmark.py`; do not edit by hand. Regenerate with:", ""]
    lines += ["```", command, "```", ""]
    lines += [
        f"- Date: {env['date']}; commit {env['commit']}.",
        f"- Device: {env['cpu']} ({env['logical_cores']} logical cores, shared), {env['threads']} thread(s) for PyTorch "
        f"and onnxruntime; accelerator: {env['accelerator']}.",
        "- Versions: " + ", ".join(f"{k} {v[k]}" for k in v) + f", Python {env['python']}.",
    ]
    if cfg["batches"]:
        lines += [
            f"- Latency: input {cfg['imgsz']}x{cfg['imgsz']}, {cfg['reps']} repetitions at batch 1 and "
            f"{cfg.get('reps_large') or cfg['reps']} at larger batches, after {cfg['warmup']} warm-up call(s), all models and "
            "backends of a batch group interleaved round-robin in one process; cells are median [p10–p90] ms. PyTorch: fused "
            "model (Ultralytics `fuse()` plus our layers' `fuse()`), eval mode, `torch.inference_mode()`. ORT: the graph "
            "from `YOLO(...).export(format=\"onnx\", imgsz, batch)`, CPUExecutionProvider, same thread count."
            + (" OpenVINO: the same ONNX file compiled by its CPU plugin (fp32, latency hint), same thread count."
               if cfg.get("openvino") else ""),
            f"- FLOPs: one forward pass at {cfg['flops_imgsz']}x{cfg['flops_imgsz']} (full resolution, no stride-proxy "
            f"extrapolation), counter: {res['counter']}; FLOPs = 2 x thop ops, as Ultralytics reports.",
            "- Peak memory: most bytes of tensors alive during one batch-1 forward (torch.profiler memory events) plus "
            "parameters and buffers; allocator slack and the interpreter are not included.",
            "- Models are built from YAML with 80 classes and random weights (speed does not depend on the weights).",
        ]
    if cfg["train_time"] or cfg["accuracy"]:
        lines.append(_data_line(res))
    if cfg["train_time"]:
        r = cfg["train_recipe"]
        lines.append(
            f"- Training time: seconds per epoch (train loop only, no validation), median over {cfg['train_reps']} "
            f"interleaved repetition(s) of a {r['epochs']}-epoch run (first epoch dropped when there are more) on "
            f"{r['fraction']:.0%} of the training images, imgsz {r['imgsz']}, batch {r['batch']}, device {r['device']}; "
            "each training runs in a fresh process."
        )
    if cfg["accuracy"]:
        r = cfg["accuracy_recipe"]
        extra = "".join(f", {k}={v!r}" for k, v in r.get("settings", ()))
        seeds = _accuracy_seeds(cfg)
        name = cfg.get("recipe", "short")
        lines.append(
            f"- Accuracy recipe `{name}`, {RECIPES[name]}, the same for every model: "
            f"`YOLO(\"<model>.yaml\").train(epochs={r['epochs']}, imgsz={r['imgsz']}, "
            f"batch={r['batch']}, seed=<seed>{extra}, val={r.get('val', True)}, deterministic=True, workers=0, amp=False)`, "
            "from scratch, "
            "everything else Ultralytics' defaults; mAP on the validation split of the best checkpoint, "
            f"mean over {len(seeds)} training(s) per model (seeds {', '.join(map(str, seeds))}); device in the table; "
            f"{cfg.get('accuracy_jobs', 1)} training(s) at a time, each in a fresh process."
        )
    lines += ["", "## Results", ""] + _results_table(res)
    if res["skipped"]:
        lines += ["", "Not measured: " + ", ".join(res["skipped"]) + " (reasons under Notes)."]
    if cfg["batches"]:
        lines += ["", "## Targets (issue 6)", ""] + _targets(res)
    elif cfg["accuracy"]:
        lines += ["", "## Where gfdnet-n stands", ""] + _standing(res)
    per_class = _per_class_table(res)
    if per_class:
        lines += ["", f"## AP50 per class (mean over seeds, `{cfg.get('recipe', 'short')}` recipe)", ""] + per_class
    lines += ["", "## FLOP counter", ""]
    lines += [
        "The stride-proxy column is Ultralytics' `get_flops` (thop on one-stride-tall images, extrapolated); it misses "
        "functional ops and size-dependent work. Counter check: stock YOLO11n should read about 6.5 GFLOPs (Ultralytics' "
        "published figure).",
        "",
    ] + _flops_table(res)
    if res.get("profile"):
        lines += ["", "## Per-layer profile", ""] + _profile_table(res["profile"])
    curves = _curves(res)
    if curves:
        lines += ["", "## Accuracy per epoch", "", "mAP50-95 of each epoch's validation in every accuracy training "
                  "(plotted in the `*_curves.png` beside this file); `best` is the highest epoch, the Results table "
                  "re-validates the best checkpoint.", ""]
        lines += curves_table(curves, _curve_epochs(curves))
    notes = [f"- {n}: skipped, {why}" for n, why in res["skipped"].items()]
    notes += [f"- {n}, {phase}: {msg}" for n, e in res["errors"].items() for phase, msg in e.items()]
    if notes:
        lines += ["", "## Notes", ""] + notes
    return "\n".join(lines) + "\n"


def _plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {n: r for n, r in res["rows"].items() if r.get("pt_b1")}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if not rows:  # accuracy only: mAP50-95 per model, each seed as a dot
        trained = {n: r for n, r in res["rows"].items() if r.get("acc_runs")}
        for i, (n, r) in enumerate(trained.items()):
            ax.bar(i, r["map50_95"], 0.6)
            ax.scatter([i] * len(r["acc_runs"]), [run["map50_95"] for run in r["acc_runs"]], color="k", s=12, zorder=3)
        ax.set_xticks(range(len(trained)), list(trained), rotation=20)
        ax.set(ylabel=f"mAP50-95 ({_data_name(res)}), bars: mean, dots: seeds")
    elif any(r.get("map50_95") for r in rows.values()):  # all zero or absent: latency bars say more
        for n, r in rows.items():
            if r.get("map50_95") is not None:
                s = r["pt_b1"]
                xerr = [[s["median_ms"] - s["p10_ms"]], [s["p90_ms"] - s["median_ms"]]]
                line = ax.errorbar(s["median_ms"], r["map50_95"], xerr=xerr, fmt="o")
                seeds = [run["map50_95"] for run in r.get("acc_runs", ())]
                if len(seeds) > 1:  # each training as a hollow marker, so the spread behind the mean shows
                    ax.scatter([s["median_ms"]] * len(seeds), seeds, facecolors="none", edgecolors=line[0].get_color())
                ax.annotate(n, (s["median_ms"], r["map50_95"]), textcoords="offset points", xytext=(5, 5))
        ax.set(xlabel="PyTorch CPU latency, batch 1 (ms, median, p10-p90)", ylabel=f"mAP50-95 ({_data_name(res)})")
        if any(len(r.get("acc_runs", ())) > 1 for r in rows.values()):
            ax.text(0.99, 0.01, "filled: mean over seeds, hollow: each seed", transform=ax.transAxes, ha="right",
                    va="bottom", fontsize=8)
    else:
        names = list(rows)
        for j, key in enumerate(("pt_b1", "ort_b1")):
            s = [rows[n].get(key) for n in names]
            xs = [i + 0.4 * j for i, v in enumerate(s) if v]
            med = [v["median_ms"] for v in s if v]
            err = [[v["median_ms"] - v["p10_ms"] for v in s if v], [v["p90_ms"] - v["median_ms"] for v in s if v]]
            ax.bar(xs, med, 0.4, yerr=err, label={"pt_b1": "PyTorch", "ort_b1": "onnxruntime"}[key])
        ax.set_xticks([i + 0.2 for i in range(len(names))], names)
        ax.set(ylabel="CPU latency, batch 1 (ms, median, p10-p90)")
        ax.legend()
    cfg = res["config"]
    side = cfg["imgsz"] if rows else cfg["accuracy_recipe"]["imgsz"]
    ax.set_title(f"{res['env']['cpu']}, {res['env']['threads']} thread(s), {side} px")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _data_name(res: dict) -> str:
    d = res.get("dataset") or {}
    return Path(d["yaml"]).parent.name if "yaml" in d else "synthetic defects"


def write_report(res: dict, out: str | Path, command: str) -> dict[str, Path]:
    """Write `out` (markdown), `out` with .json and .png suffixes and, when accuracy runs kept their curves,
    `<stem>_curves.png`; returns the paths by kind (md, json, png, curves)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = {"md": out, "json": out.with_suffix(".json"), "png": out.with_suffix(".png")}
    paths["md"].write_text(render_markdown(res, command), encoding="utf-8")
    paths["json"].write_text(json.dumps({**res, "command": command}, indent=1, default=str) + "\n", encoding="utf-8")
    _plot(res, paths["png"])
    curves, curves_png = _curves(res), out.with_name(f"{out.stem}_curves.png")
    if curves:
        title = f"Accuracy trainings on {_data_name(res)}, per epoch ({res['config'].get('recipe', 'short')} recipe)"
        paths["curves"] = plot_curves(curves, curves_png, "mAP50-95 (validation)", title)
    else:
        curves_png.unlink(missing_ok=True)  # an earlier run's curves would not match this note
    return paths
