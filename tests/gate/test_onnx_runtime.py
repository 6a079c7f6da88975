import numpy as np
import pytest
import torch

from gfdnet_ultra.gate.onnx_runtime import GatedOnnxRunner
from gfdnet_ultra.gate.export import export_gated_onnx


@pytest.fixture(scope="module")
def onnx_pair(gated_model, tmp_path_factory):
    from gfdnet_ultra.gate.head import find_gate

    find_gate(gated_model)[1].__dict__.pop("classify", None)  # undo a forced gate from other tests
    return export_gated_onnx(gated_model, tmp_path_factory.mktemp("onnx") / "m.onnx", 64, batch=2)


def test_onnx_pair_matches_pytorch_and_skips_the_tail_for_normal_images(gated_model, onnx_pair):
    from gfdnet_ultra.gate.head import find_gate

    find_gate(gated_model)[1].__dict__.pop("classify", None)
    x = np.random.default_rng(0).random((3, 3, 64, 64), dtype=np.float32)
    with torch.no_grad():
        ref = gated_model(torch.from_numpy(x))[0].numpy()
        p_ref = find_gate(gated_model)[1].logits.sigmoid().numpy()
    runner = GatedOnnxRunner(onnx_pair[0], threshold=0.0)
    p, keep, y = runner(x)
    assert np.allclose(p, p_ref, atol=1e-5)
    assert np.abs(y - ref).max() < 1e-2 * max(1.0, np.abs(ref).max())  # boxes in pixels, scores in [0, 1]
    skip_all = GatedOnnxRunner(onnx_pair[0], threshold=1.0)
    _, keep, y = skip_all(x)
    assert skip_all.calls == {"gate": 1, "tail": 0} and y.shape == ref.shape and not y.any()
