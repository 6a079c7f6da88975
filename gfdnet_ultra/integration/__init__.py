"""The only package that imports Ultralytics' parser, engine or cfg, or changes anything in Ultralytics.

Every change goes through `patches.py` (recorded, marked once, undone by `gfdnet_ultra.uninstall()`) and is made by
`registry.register()`. The functions we replace, why, and for which models behaviour changes (every other model
runs Ultralytics' own code, through a wrapper that only passes the call on):

| replaced (Ultralytics 8.4.x) | by | why | changes behaviour for |
|---|---|---|---|
| `ultralytics.nn.tasks.parse_model` | parse_patch.py | plugin layers get Ultralytics' own scaling rules | YAMLs naming a plugin layer (others: the original function) |
| `ultralytics.nn.tasks.yaml_model_load` | model_files.py | `gfdnet-s.yaml` means scale s of our packaged YAML | our model names and `<name>-<scale>.yaml` files with that scale |
| `ultralytics.engine.model.yaml_model_load` | model_files.py | the same function, imported by name | as above |
| `ultralytics.nn.tasks.BaseModel.fuse` | fuse.py | stock fusion never calls a third-party `fuse()` | models with our layers |
| `ultralytics.nn.tasks.DetectionModel.init_criterion` | gate_hooks.py | the joint detection + gate loss | models with a DefectGate |
| `ultralytics.models.yolo.model.YOLO.task_map` | gate_hooks.py | gated predictor and validator for the detect task | runs with a DefectGate, `threshold=` or `gate_classifier=` |
| `ultralytics.engine.trainer.BaseTrainer.save_model` | checkpoints.py | atomic checkpoint writes, `resume-state.pt` | models with our layers; others with `exact_resume=True` / `GFDNET_EXACT_RESUME=1` |
| `ultralytics.engine.trainer.BaseTrainer._setup_train` | checkpoints.py | applies `resume-state.pt` on resume | as above |
| `ultralytics.engine.trainer.BaseTrainer.final_eval` | checkpoints.py | makes its `strip_optimizer` rewrites atomic | as above |
| `ultralytics.engine.trainer.strip_optimizer` | checkpoints.py | the atomic rewrite itself (only inside our `final_eval`) | as above |
| `ultralytics.utils.downloads.attempt_download_asset` | offline.py | a missing local checkpoint fails at once, without a GitHub query | paths that do not exist (every model) |
| `ultralytics.utils.checks.check_font` | offline.py | no font download at run time | every model, when Arial.ttf is not on the machine |
| `ultralytics.data.utils.check_font` | offline.py | the same function, imported by name | as above |
| `ultralytics.utils.plotting.check_font` | offline.py | the same function, imported by name | as above |

Registration also adds, without replacing anything: our YAML layer names to `ultralytics.nn.tasks` (and the parser's
helpers `_GFD_SETS`, `_gfd_in_channels`); our train arguments (`gate_hooks.TRAIN_ARGS`) to the default config with
value None; three default callbacks (gate epoch, `bn_recalib`, gated ONNX export) and the DDP registration anchor;
and it sets `ultralytics.utils.patches._pil_plugins_registered` (no lazy `pi-heif` install; offline.py).
"""
