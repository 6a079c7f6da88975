"""The benchmark suite: build every model from its YAML, then measure them side by side in one process.

Phases, in order: build and fuse (skipping, with a note, any model whose YAML is missing or does not build), FLOPs
(`flops.py`), peak memory (`memory.py`), ONNX export through Ultralytics' own exporter (`YOLO(...).export(format=
"onnx")`, what users get), then PyTorch and onnxruntime latency in one interleaved loop (`latency.py`), a per-layer
profile of one model (`layer_profile.py`), training time per epoch (interleaved: repetition r trains every model once)
and the accuracy recipe (`training.py`) on the synthetic defect set or on any dataset YAML (`Config.data_yaml`, e.g. a
converted real set). Models use Ultralytics' default 80 classes for speed figures and the dataset's classes for
training.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from torch import nn
from tqdm import tqdm

from .env import environment
from .flops import COUNTER_NAME, count_flops
from .latency import interleave, ort_runner, ov_runner, set_threads, summarize, torch_runner
from .layer_profile import layer_profile
from .memory import peak_memory_mib
from .training import Recipe, train_isolated

__all__ = ("BASELINE", "DEFAULT_MODELS", "RECIPES", "Config", "build", "run_suite")

DEFAULT_MODELS = ("gfdnet-n", "gfdnet-s", "gfdnet-e2e", "gfdnet-ffpn", "yolov8n", "yolo11n", "yolo26n")
BASELINE = "yolo11n"
RECIPES = {  # named in every table: what a user runs, and our short CPU recipe (docs/recipe.md)
    "ultralytics": "Ultralytics' defaults (`yolo train model=X data=Y epochs=E imgsz=S`)",
    "short": "our short recipe (docs/recipe.md: SHORT_RECIPE)",
}


@dataclass
class Config:
    """What to measure and how; `scripts/benchmark.py` fills it from the command line."""

    models: tuple[str, ...] = DEFAULT_MODELS
    imgsz: int = 640  # latency and memory input side
    flops_imgsz: int = 640
    batches: tuple[int, ...] = (1, 8)
    threads: int = 1
    reps: int = 10
    reps_large: int | None = None  # repetitions for batches > 1 (None: `reps`); they cost batch times more each
    warmup: int = 2
    onnx: bool = True
    openvino: bool = False  # OpenVINO latency of the same ONNX files, interleaved with the others (needs `onnx`)
    memory: bool = True
    profile: str | None = "gfdnet-n"  # model whose layers are profiled, if it was built
    train_time: bool = False
    train_reps: int = 1
    accuracy: bool = False
    accuracy_models: tuple[str, ...] | None = None  # None: every built model
    accuracy_seeds: tuple[int, ...] = (0,)  # one training per seed and model; the table shows the mean and the spread
    accuracy_jobs: int = 1  # accuracy trainings at a time, each in its own process with `threads` threads
    data: dict = field(default_factory=lambda: {"n_train": 160, "n_val": 48, "imgsz": 256, "seed": 0})  # synthetic set
    data_yaml: str | None = None  # train on this dataset YAML instead of the synthetic set
    recipe: str = "short"  # a RECIPES key, for the tables (the settings themselves are in the Recipe objects)
    keep_weights: str | None = None  # folder: each accuracy run's best checkpoint as <model>-seed<k>.pt
    train_recipe: Recipe = field(default_factory=lambda: Recipe(epochs=2, imgsz=160, batch=16, val=False))
    accuracy_recipe: Recipe = field(default_factory=lambda: Recipe(epochs=15, imgsz=160, batch=16))  # validates every epoch


def yaml_file(name: str) -> str:
    """The model YAML of a benchmark name: a shipped name without `.yaml` (`gfdnet-n`) or a path to a YAML as given."""
    if name.endswith(".yaml"):
        return str(Path(name).absolute()) if Path(name).exists() else name  # trainings run in other folders
    return f"{name}.yaml"


def file_stem(name: str) -> str:
    """A benchmark name as one file-name part: the YAML's stem for a path (`docs/ablation/x.yaml` -> `x`)."""
    return Path(name).name.removesuffix(".yaml")


def build(name: str):
    """`YOLO(yaml_file(name))` with its model fused as Ultralytics' predictor fuses, plus `fuse()` of our own layers."""
    from ultralytics import YOLO

    yolo = YOLO(yaml_file(name))
    model = yolo.model.fuse(verbose=False).eval()  # verbose would run get_flops on uninitialised proxy images
    for m in model.modules():
        fuse = getattr(m, "fuse", None)  # a method; some of our layers name a child module `fuse`
        if type(m).__module__.startswith("gfdnet_ultra") and callable(fuse) and not isinstance(fuse, nn.Module):
            fuse()
    return yolo


def _export(yolo, imgsz: int, batch: int, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.chdir(folder):  # the exporter writes beside the model file, i.e. into the working directory
        return Path(yolo.export(format="onnx", imgsz=imgsz, batch=batch, device="cpu")).absolute()


def _proxy_gflops(model: nn.Module, imgsz: int) -> float:
    """Ultralytics' `get_flops` (stride-proxy) figure, for comparison with ours.

    Its proxy images are uninitialised memory (`new_empty`), and torchvision's `deform_conv2d` crashes the process on
    NaN offsets, so deformable convs run their equal grid_sample formulation here.
    """
    from ultralytics.utils.torch_utils import get_flops

    from gfdnet_ultra.nn.deform import ModulatedDeformConv2d

    dcn = [m for m in model.modules() if isinstance(m, ModulatedDeformConv2d)]
    for m in dcn:
        m.export = True
    try:
        return get_flops(model, imgsz)
    finally:
        for m in dcn:
            del m.export  # back to the class default


def _median_epoch(epoch_s: list[float]) -> float:
    return statistics.median(epoch_s[1:] or epoch_s)  # the first epoch carries one-off start-up costs when others exist


def accuracy_summary(runs: list[dict]) -> dict:
    """Row figures from accuracy trainings (one per seed, each with its `seed`): mean mAPs, each run's mAPs, device.

    Examples:
        >>> round(accuracy_summary([{"seed": 0, "map50": 0.4, "map50_95": 0.2, "device": "cpu", "epoch_s": [2.0]},
        ...                   {"seed": 1, "map50": 0.2, "map50_95": 0.1, "device": "cpu", "epoch_s": [3.0]}])["map50"], 3)
        0.3
    """
    classes = [c for c in runs[0].get("ap50_per_class", {}) if all(c in r.get("ap50_per_class", {}) for r in runs)]
    out = {
        "map50": statistics.fmean(r["map50"] for r in runs),
        "map50_95": statistics.fmean(r["map50_95"] for r in runs),
        "acc_runs": [{k: r[k] for k in ("seed", "map50", "map50_95", "wall_s", "curve") if k in r} for r in runs],
        "acc_device": runs[0]["device"],
        "acc_epoch_s": _median_epoch([t for r in runs for t in r["epoch_s"]]),  # not interleaved; shared cores when accuracy_jobs > 1
    }
    if classes:
        out["ap50_per_class"] = {c: statistics.fmean(r["ap50_per_class"][c] for r in runs) for c in classes}
    if all("wall_s" in r for r in runs):
        out["acc_wall_s"] = statistics.fmean(r["wall_s"] for r in runs)
    return out


def _dataset(cfg: Config) -> tuple[Path, dict]:
    """The training data and its description for the note: `cfg.data_yaml` as given, or the synthetic set."""
    if cfg.data_yaml is None:
        from gfdnet_ultra.data.synthetic import synthetic_dataset

        return synthetic_dataset(**cfg.data), {"generator": "gfdnet_ultra.data.synthetic.make_synthetic_dataset", **cfg.data}
    from gfdnet_ultra.data.stats import dataset_stats

    stats = dataset_stats(cfg.data_yaml)  # fails early, naming the file, when the YAML or a split folder is missing
    splits = {k: {f: v[f] for f in ("images", "normal", "defective")} | {"boxes": sum(v["boxes"].values())}
              for k, v in stats["splits"].items()}
    return Path(cfg.data_yaml), {"yaml": str(cfg.data_yaml), "names": stats["names"], "splits": splits}


@contextlib.contextmanager
def _quiet():
    from ultralytics.utils import LOGGER

    level = LOGGER.level
    LOGGER.setLevel(logging.WARNING)
    try:
        yield
    finally:
        LOGGER.setLevel(level)


def run_suite(cfg: Config, progress: bool = True) -> dict:
    """Run every phase `cfg` asks for; returns the results dict that `report.py` renders.

    Returns:
        (dict): `config`, `env`, `counter`, `rows` (model -> figures), `skipped` (model -> reason), `profile`,
            `errors` (model -> phase -> message).
    """
    threads = set_threads(cfg.threads)
    res = {"config": asdict(cfg), "env": environment(threads), "counter": COUNTER_NAME, "rows": {}, "skipped": {}}
    res.update(profile=None, errors={})
    steps = len(cfg.models) * (3 + len(cfg.batches) * cfg.onnx)  # build, FLOPs, memory, exports
    bar = tqdm(total=steps, desc="build", unit="step", disable=not progress)
    yolos, rows = {}, res["rows"]

    def fail(name: str, phase: str, e: Exception) -> None:
        res["errors"].setdefault(name, {})[phase] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"

    with _quiet(), tempfile.TemporaryDirectory() as tmp:
        for name in cfg.models:
            bar.set_description(f"build {name}")
            try:
                yolos[name] = build(name)
            except FileNotFoundError as e:
                res["skipped"][name] = f"YAML not found ({str(e).splitlines()[0]})"
            except Exception as e:  # a model that does not build is reported, not fatal to the others
                res["skipped"][name] = f"does not build: {type(e).__name__}: {e}"
            bar.update()
        bar.total -= len(res["skipped"]) * (2 + len(cfg.batches) * cfg.onnx)  # no further steps for those
        for name, yolo in yolos.items():
            model: nn.Module = yolo.model
            row = rows[name] = {"params": sum(p.numel() for p in model.parameters())}
            bar.set_description(f"FLOPs {name}")
            fc = count_flops(model, cfg.flops_imgsz)
            row.update(gflops=fc.gflops, gflops_thop=fc.thop_gflops, gflops_functional=fc.functional_gflops)
            row["functional_ops"] = fc.by_op
            row["gflops_ultralytics"] = _proxy_gflops(model, cfg.flops_imgsz)
            bar.update()
            if cfg.memory:
                bar.set_description(f"memory {name}")
                row["mem_b1_mib"] = peak_memory_mib(model, 1, cfg.imgsz)
            bar.update()
        runners = {}
        for name, yolo in yolos.items():
            for b in cfg.batches:
                runners[(name, "pt", b)] = torch_runner(yolo.model, b, cfg.imgsz)
                if cfg.onnx:
                    bar.set_description(f"export {name} b{b}")
                    try:
                        path = _export(yolo, cfg.imgsz, b, Path(tmp) / f"{file_stem(name)}-b{b}")
                        runners[(name, "ort", b)] = ort_runner(path, b, cfg.imgsz, threads)
                        if cfg.openvino:
                            runners[(name, "ov", b)] = ov_runner(path, b, cfg.imgsz, threads)
                    except Exception as e:
                        fail(name, f"onnx b{b}", e)
                    bar.update()
        times = {}
        for large in (False, True):  # batch 1 first, then the larger batches, each group interleaved over models
            group = {k: r for k, r in runners.items() if (k[2] > 1) == large}
            reps = cfg.reps_large or cfg.reps if large else cfg.reps
            bar.total += reps * len(group)
            bar.set_description(f"latency (interleaved, {'batch > 1' if large else 'batch 1'})")
            times.update(interleave(group, reps, cfg.warmup, on_step=lambda k: bar.update()))
        set_threads(threads)
        for (name, backend, b), t in times.items():
            rows[name][f"{backend}_b{b}"] = summarize(t)
        if cfg.profile in yolos:
            bar.set_description(f"profile {cfg.profile}")
            layers = layer_profile(yolos[cfg.profile].model, cfg.imgsz)
            res["profile"] = {"model": cfg.profile, "imgsz": cfg.imgsz, "layers": layers}
        if cfg.train_time or cfg.accuracy:
            data, res["dataset"] = _dataset(cfg)
            acc_models = [n for n in yolos if cfg.accuracy_models is None or n in cfg.accuracy_models]
            n_acc = len(acc_models) * len(cfg.accuracy_seeds) * cfg.accuracy
            bar.total += len(yolos) * cfg.train_reps * cfg.train_time + n_acc
        if cfg.train_time:
            epochs = {name: [] for name in yolos}
            for r in range(cfg.train_reps):
                for name in yolos:
                    bar.set_description(f"train time {name} ({r + 1}/{cfg.train_reps})")
                    try:
                        out = train_isolated(yaml_file(name), data, cfg.train_recipe, threads, Path(tmp) / "train")
                        epochs[name].append(_median_epoch(out["epoch_s"]))
                        rows[name]["train_device"] = out["device"]
                    except Exception as e:
                        fail(name, "train time", e)
                    bar.update()
            for name, e in epochs.items():
                if e:
                    rows[name]["train_epoch_s"] = statistics.median(e)
        if cfg.accuracy:
            runs = {name: {} for name in acc_models}

            def train(name: str, seed: int) -> dict:
                bar.set_description(f"accuracy {name} (seed {seed})")
                recipe = replace(cfg.accuracy_recipe, seed=seed)
                keep = cfg.keep_weights and Path(cfg.keep_weights) / f"{file_stem(name)}-seed{seed}.pt"
                return train_isolated(yaml_file(name), data, recipe, threads, Path(tmp) / "acc" / f"seed{seed}", keep)

            with ThreadPoolExecutor(cfg.accuracy_jobs) as pool:  # each training is a process of its own
                tasks = {pool.submit(train, n, s): (n, s) for n in acc_models for s in cfg.accuracy_seeds}
                for done in as_completed(tasks):
                    name, seed = tasks[done]
                    try:
                        runs[name][seed] = {**done.result(), "seed": seed}
                    except Exception as e:
                        fail(name, f"accuracy seed {seed}", e)
                    bar.update()
            for name, by_seed in runs.items():
                if by_seed:
                    rows[name].update(accuracy_summary([by_seed[s] for s in cfg.accuracy_seeds if s in by_seed]))
    bar.close()
    return res
