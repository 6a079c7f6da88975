import torch

from gfdnet_ultra.gate.runner import GateSplit, run_gated, scatter

from .conftest import force_gate


def _count_tail_calls(model, split):
    calls = []
    hooks = [m.register_forward_hook(lambda m, i, o: calls.append((m.i, _batch(i)))) for m in split.layers[split.index + 1 :]]
    return calls, hooks


def _batch(inputs):
    x = inputs[0]
    return (x[0] if isinstance(x, list) else x).shape[0]


def test_split_stages_reproduce_the_full_forward(gated_model):
    split = GateSplit(gated_model)
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        full = gated_model(x)[0]
        p, feats = split.stage1(x)
        assert torch.equal(split.stage2(feats)[0], full)
    assert p.shape == (2,)


def test_gate_skips_neck_and_head_for_images_it_calls_normal(gated_model):
    split = GateSplit(gated_model)
    force_gate(gated_model, [0.9, 0.1, 0.8, 0.2])
    calls, hooks = _count_tail_calls(gated_model, split)
    try:
        with torch.no_grad():
            p, keep, y = run_gated(split.stage1, split.stage2, torch.rand(4, 3, 64, 64), 0.5)
    finally:
        for h in hooks:
            h.remove()
    assert keep.tolist() == [True, False, True, False]
    assert len(calls) == len(split.layers) - split.index - 1  # each neck/head layer ran once ...
    assert {b for _, b in calls} == {2}  # ... on the 2 defective images only


def test_all_normal_batch_never_calls_the_neck_or_head(gated_model):
    split = GateSplit(gated_model)
    force_gate(gated_model, [0.1, 0.2, 0.3])
    calls, hooks = _count_tail_calls(gated_model, split)
    try:
        with torch.no_grad():
            p, keep, y = run_gated(split.stage1, split.stage2, torch.rand(3, 3, 64, 64), 0.5)
    finally:
        for h in hooks:
            h.remove()
    assert calls == [] and y is None and not keep.any()


def test_all_defective_batch_runs_the_whole_batch_once(gated_model):
    split = GateSplit(gated_model)
    force_gate(gated_model, [0.9, 0.95])
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        _, keep, y = run_gated(split.stage1, split.stage2, x, 0.5)
        assert torch.equal(y[0], gated_model(x)[0])
    assert keep.all()


def test_mixed_batch_results_keep_input_order(gated_model):
    split = GateSplit(gated_model)
    force_gate(gated_model, [0.1, 0.9, 0.2, 0.7])
    x = torch.rand(4, 3, 64, 64)
    with torch.no_grad():
        _, keep, y_kept = run_gated(split.stage1, split.stage2, x, 0.5)
        full = scatter(y_kept[0], keep, y_kept[0].shape[1:])
        for i in (1, 3):  # kept images equal their own single-image forward, at their own position
            force_gate(gated_model, [1.0])
            assert torch.allclose(full[i], gated_model(x[i : i + 1])[0][0], atol=1e-5)
    assert not full[0].any() and not full[2].any()


def test_scatter_works_on_numpy_with_nothing_kept():
    import numpy as np

    out = scatter(None, np.array([False, False]), (6, 5))
    assert out.shape == (2, 6, 5) and not out.any()
