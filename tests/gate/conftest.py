import pytest
import torch


@pytest.fixture(scope="module")
def gated_model():
    """yolo11-gated-n, eval mode, built once per module (no weights; the routing is what is tested)."""
    from ultralytics.nn.tasks import DetectionModel

    import gfdnet_ultra

    gfdnet_ultra.register()  # DefectGate
    torch.manual_seed(0)
    m = DetectionModel("yolo11-gated-n.yaml", nc=2, verbose=False).eval()
    return m


def force_gate(model, p: list[float]):
    """Make the model's gate output the given probabilities (per image, in batch order)."""
    from gfdnet_ultra.gate.head import find_gate

    _, gate = find_gate(model)
    logits = torch.logit(torch.tensor(p).clamp(1e-6, 1 - 1e-6))
    gate.classify = lambda x: logits[: x.shape[0]].to(x)
    return gate
