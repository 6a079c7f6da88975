import numpy as np
import pytest
import torch

from gfdnet_ultra.gate.backends import BACKENDS, load_graph
from gfdnet_ultra.gate.onnx_runtime import GatedOnnxRunner
from gfdnet_ultra.gate.export import export_gated_onnx


@pytest.fixture(scope="module")
def onnx_pair(gated_model, tmp_path_factory):
    from gfdnet_ultra.gate.head import find_gate

    find_gate(gated_model)[1].__dict__.pop("classify", None)  # undo a forced gate from other tests
    return export_gated_onnx(gated_model, tmp_path_factory.mktemp("onnx") / "m.onnx", 64, batch=2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_onnx_pair_matches_pytorch_and_skips_the_tail_for_normal_images(gated_model, onnx_pair, backend):
    from gfdnet_ultra.gate.head import find_gate

    find_gate(gated_model)[1].__dict__.pop("classify", None)
    x = np.random.default_rng(0).random((3, 3, 64, 64), dtype=np.float32)
    with torch.no_grad():
        ref = gated_model(torch.from_numpy(x))[0].numpy()
        p_ref = find_gate(gated_model)[1].logits.sigmoid().numpy()
    runner = GatedOnnxRunner(onnx_pair[0], threshold=0.0, backend=backend, threads=1)
    p, keep, y = runner(x)
    assert np.allclose(p, p_ref, atol=1e-5)
    assert np.abs(y - ref).max() < 1e-2 * max(1.0, np.abs(ref).max())  # boxes in pixels, scores in [0, 1]
    skip_all = GatedOnnxRunner(onnx_pair[0], threshold=1.0, backend=backend)
    _, keep, y = skip_all(x)
    assert skip_all.calls == {"gate": 1, "tail": 0} and y.shape == ref.shape and not y.any()


def test_both_backends_make_the_same_decisions_and_outputs(gated_model, tmp_path):
    from copy import deepcopy

    from gfdnet_ultra.gate.head import find_gate

    model = deepcopy(gated_model)
    gate = find_gate(model)[1]
    gate.__dict__.pop("classify", None)
    x = (np.random.default_rng(1).random((6, 3, 64, 64)) * np.linspace(0, 1, 6)[:, None, None, None]).astype(np.float32)
    with torch.no_grad():  # an untrained gate says ~0.48 for every image: spread its logits around 0 on this batch
        gate.fc[-1].weight.mul_(1e4)
        model(torch.from_numpy(x))
        gate.fc[-1].bias.sub_(gate.logits.median())
    gate_file, _ = export_gated_onnx(model, tmp_path / "spread.onnx", 64, batch=2)
    p_ort = GatedOnnxRunner(gate_file, threshold=0.0, backend="onnxruntime")(x)[0]
    gaps = np.diff(np.sort(p_ort))
    assert gaps.max() > 1e-2, f"gate outputs too close to split: {np.sort(p_ort)}"
    threshold = float(np.sort(p_ort)[gaps.argmax()] + gaps.max() / 2)  # mid-way in the widest gap
    (p1, keep1, y1), (p2, keep2, y2) = (GatedOnnxRunner(gate_file, threshold=threshold, backend=b)(x) for b in BACKENDS)
    assert np.abs(p1 - p2).max() < 1e-5
    assert keep1.tolist() == keep2.tolist() and 0 < keep1.sum() < len(keep1)
    assert np.abs(y1 - y2).max() < 1e-3 * max(1.0, np.abs(y1).max())


def test_load_graph_refuses_an_unknown_backend_and_a_missing_file(onnx_pair, tmp_path):
    with pytest.raises(ValueError, match=r"backend='tensorrt' is not one of onnxruntime, openvino"):
        load_graph(onnx_pair[0], "tensorrt")
    with pytest.raises(FileNotFoundError, match=r"ONNX graph '.*missing-gate.onnx' not found"):
        load_graph(tmp_path / "missing-gate.onnx", "openvino")
