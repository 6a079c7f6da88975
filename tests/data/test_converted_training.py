"""A COCO-json set converted by us trains with stock Ultralytics and evaluates with `save_json=True` (COCO json eval)."""

from __future__ import annotations

import json

import pytest

from gfdnet_ultra.data.coco import convert_coco
from gfdnet_ultra.data.synthetic import make_synthetic_dataset
from gfdnet_ultra.data.yolo_format import read_label_file


def _synthetic_as_coco(tmp_path, imgsz=64):
    """The tiny synthetic set re-expressed as one COCO json per split (category ids start at 1)."""
    syn = tmp_path / "syn"
    names = make_synthetic_dataset(syn, n_train=8, n_val=4, imgsz=imgsz, progress=False)["names"]
    splits = {}
    for split in ("train", "val"):
        images, anns = [], []
        for i, p in enumerate(sorted((syn / "images" / split).glob("*.png")), 1):
            images.append({"id": i, "file_name": p.name, "width": imgsz, "height": imgsz})
            for c, xc, yc, w, h in read_label_file(syn / "labels" / split / f"{p.stem}.txt"):
                box = [(xc - w / 2) * imgsz, (yc - h / 2) * imgsz, w * imgsz, h * imgsz]
                anns.append({"id": len(anns) + 1, "image_id": i, "category_id": c + 1, "bbox": box, "area": box[2] * box[3], "iscrowd": 0})
        cats = [{"id": k + 1, "name": n} for k, n in enumerate(names)]
        path = tmp_path / f"{split}.json"
        path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
        splits[split] = (path, syn / "images" / split)
    return splits, names


@pytest.mark.slow
def test_converted_coco_set_trains_one_epoch_and_validates_with_coco_json_eval(tmp_path, monkeypatch):
    pytest.importorskip("faster_coco_eval")  # Ultralytics 8.4 evaluates save_json with faster-coco-eval
    torch = pytest.importorskip("torch")
    from ultralytics import YOLO
    from ultralytics.models.yolo.detect import DetectionValidator

    torch.set_num_threads(1)
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    splits, names = _synthetic_as_coco(tmp_path)
    result = convert_coco(tmp_path / "coco", splits)
    assert result["names"] == names
    data = str(tmp_path / "coco" / "data.yaml")
    common = dict(imgsz=64, batch=4, workers=0, device="cpu", plots=False, project=str(tmp_path / "runs"), exist_ok=True)
    YOLO("yolo11n.yaml").train(data=data, epochs=1, val=False, name="train", **common)

    seen = {}
    original = DetectionValidator.coco_evaluate

    def spy(self, stats, *args, **kwargs):
        seen.update(original(self, stats, *args, **kwargs))
        return seen

    monkeypatch.setattr(DetectionValidator, "coco_evaluate", spy)
    weights = tmp_path / "runs" / "train" / "weights" / "last.pt"
    metrics = YOLO(str(weights)).val(data=data, save_json=True, conf=1e-9, name="val", **common)
    assert (tmp_path / "runs" / "val" / "predictions.json").is_file()
    assert "metrics/mAP_small(B)" in seen  # only set when the COCO json evaluation really ran
    assert 0.0 <= metrics.box.map <= 1.0
