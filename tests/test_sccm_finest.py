"""The finest SCCM only predicts (issue #14): no refinement convs there, no dead parameters, ``info["features"]``
holds what reaches the outputs, and state dicts saved with the old refinement weights still load unchanged.

Tiny networks (width 4, depth 2, 32 px) on one CPU thread.
"""

from pathlib import Path

import pytest
import torch

from course_lib import pretrained
from course_lib.models import SCCM, MPFNet, PlainHead, count_parameters
from course_lib.models.sccm import REFINEMENT_KEYS
from course_lib.train.configs import build_model
from course_lib.train.stage3_finetune import feature_disc_input
from test_models import image, small_mpfnet  # the model tests' tiny networks and inputs



def randomize(module, std=0.5, seed=3):
    """Large random weights: with init_weights' N(0, 0.02) every gate sits near 0.5 and every refinement near 0,
    which would hide a refinement that leaks into an output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return module


def with_refining_finest_head(model):
    """The architecture before issue #14: the same network, its finest SCCM with refinement convs."""
    torch.manual_seed(7)
    legacy = small_mpfnet(in_channels=model.in_channels, out_channels=model.out_channels, width=model.config.width,
                          depth=model.config.depth, scales=model.config.scales)
    legacy.heads[-1] = SCCM(model.config.width, model.out_channels, model.in_channels, refine=True)
    return legacy


# (a) structure and parameter count -------------------------------------------------------------------------

@pytest.mark.parametrize("scales", [1, 2, 3])
@pytest.mark.parametrize("in_channels, out_channels", [(1, 3), (1, 1)])
def test_finest_sccm_has_no_refinement_and_the_count_drops_by_its_two_convs(scales, in_channels, out_channels):
    model = small_mpfnet(in_channels, out_channels, scales=scales)
    finest, coarser = model.heads[-1], list(model.heads)[:-1]
    assert isinstance(finest, SCCM) and not finest.refine
    assert not hasattr(finest, "features") and not hasattr(finest, "gate")
    assert sorted(n for n, _ in finest.named_parameters()) == ["skip.bias", "skip.weight", "to_image.bias",
                                                              "to_image.weight"]
    for head in coarser:   # unchanged: they refine the features they pass to the next scale
        assert head.refine and isinstance(head.features, torch.nn.Conv2d) and isinstance(head.gate, torch.nn.Conv2d)
    w = model.config.width
    features_conv = w * w * 9 + w               # Conv2d(width, width, 3)
    gate_conv = out_channels * w * 9 + w        # Conv2d(out_channels, width, 3)
    legacy = with_refining_finest_head(model)
    assert count_parameters(legacy) - count_parameters(model) == features_conv + gate_conv


def test_parameter_drop_of_the_cpu_and_course_profile_networks():
    # cpu profile: width 8, depth 3; course profile F_G: width 24, depths (3, 4, 5). 9 w^2 + w + 3 * 9 w + w.
    for width, depth in ((8, 3), (24, (3, 4, 5))):
        model = MPFNet(1, 3, width=width, depth=depth)
        legacy = with_refining_finest_head(model)
        assert count_parameters(legacy) - count_parameters(model) == {8: 808, 24: 5880}[width]


def test_plain_head_ablation_is_unchanged():
    model = small_mpfnet(sccm=False)
    assert all(isinstance(h, PlainHead) for h in model.heads)
    assert all(sorted(n for n, _ in h.named_parameters()) == ["to_image.bias", "to_image.weight"]
               for h in model.heads)


# (b) no dead parameters ------------------------------------------------------------------------------------

@pytest.mark.parametrize("sccm", [True, False])
@pytest.mark.parametrize("scales", [1, 2, 3])
def test_every_parameter_gets_a_gradient_from_the_predictions_alone(sccm, scales):
    # Before issue #14 the finest SCCM's features/gate convs got no gradient from any prediction.
    model = small_mpfnet(sccm=sccm, scales=scales)
    predictions = model(image())
    g = torch.Generator().manual_seed(5)
    loss = sum((p - (torch.rand(p.shape, generator=g) * 2 - 1)).square().mean() for p in predictions)
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().max() > 0, name


# (c) info["features"] reaches the outputs ------------------------------------------------------------------

@pytest.mark.parametrize("size", [(32, 32), (37, 50)])   # 37 x 50: padded to 40 x 56, then cropped back
def test_finest_features_are_what_the_finest_prediction_is_computed_from(size):
    model = randomize(small_mpfnet())
    read = {}

    def keep_input(module, inputs, output):
        read["f"] = inputs[0]

    handle = model.heads[-1].to_image.register_forward_hook(keep_input)
    try:
        predictions, info = model(image(n=1, h=size[0], w=size[1]), return_features=True)
    finally:
        handle.remove()
    finest, conv_input = info["features"][-1], read["f"]
    h, w = size
    # the very tensor the prediction conv reads (the same storage; cropped back to the input's size) ...
    assert finest.untyped_storage().data_ptr() == conv_input.untyped_storage().data_ptr()
    assert torch.equal(finest, conv_input[..., :h, :w])
    # ... which is the finest FEB output, and the finest prediction depends on it
    assert torch.equal(finest, info["feb_features"][-1])
    grad, = torch.autograd.grad(predictions[-1].sum(), conv_input)
    assert grad[..., :h, :w].abs().amax(dim=(0, 2, 3)).min() > 0          # on every channel
    # coarser scales: the refined features passed on, not the FEB output
    for refined, raw in zip(info["features"][:-1], info["feb_features"][:-1]):
        assert not torch.allclose(refined, raw)
    # what D_G^feat sees with feat_source="features"
    assert feature_disc_input(predictions, info, "features") is finest


# (d) legacy state dicts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("scales", [1, 3])
def test_a_state_dict_with_the_old_finest_refinement_loads_with_identical_outputs(scales):
    model = small_mpfnet(scales=scales)
    legacy = randomize(with_refining_finest_head(model))       # the old architecture, large random weights
    state = legacy.state_dict()
    finest = f"heads.{scales - 1}."
    assert all(finest + k in state for k in REFINEMENT_KEYS)
    assert set(state) - set(model.state_dict()) == {finest + k for k in REFINEMENT_KEYS}
    model.load_state_dict(state)                                 # strict: the legacy keys are dropped, nothing else
    assert all(finest + k in state for k in REFINEMENT_KEYS)     # the caller's dict is left as it was
    x = image()
    with torch.no_grad():
        for old, new in zip(legacy(x), model(x)):
            assert torch.equal(old, new)
    for name, p in model.state_dict().items():
        assert torch.equal(p, state[name]), name


def test_legacy_keys_added_to_a_new_state_dict_are_ignored():
    model = randomize(small_mpfnet())
    state = dict(model.state_dict())
    w, g = model.config.width, torch.Generator().manual_seed(11)
    shapes = {"features.weight": (w, w, 3, 3), "features.bias": (w,), "gate.weight": (w, 3, 3, 3), "gate.bias": (w,)}
    assert set(shapes) == set(REFINEMENT_KEYS)
    for key, shape in shapes.items():
        state["heads.2." + key] = torch.randn(shape, generator=g)
    fresh = small_mpfnet(seed=1)
    fresh.load_state_dict(state)
    x = image()
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(model(x), fresh(x)))


def test_only_the_finest_refinement_keys_are_dropped():
    model = small_mpfnet()
    state = dict(model.state_dict())
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\).*heads\.2\.extra\.weight"):
        model.load_state_dict({**state, "heads.2.extra.weight": torch.zeros(1)})
    missing = {k: v for k, v in state.items() if k != "heads.2.to_image.weight"}
    with pytest.raises(RuntimeError, match=r"Missing key\(s\).*heads\.2\.to_image\.weight"):
        model.load_state_dict(missing)
    coarse = {k: v for k, v in state.items() if k != "heads.1.gate.weight"}   # coarser SCCMs still need theirs
    with pytest.raises(RuntimeError, match=r"Missing key\(s\).*heads\.1\.gate\.weight"):
        model.load_state_dict(coarse)


# (e) the shipped weights -----------------------------------------------------------------------------------

def test_shipped_weights_pass_their_checksum_and_load_without_legacy_keys():
    registry = Path(pretrained.__file__).parent / "weights" / "registry.json"
    for name in pretrained.read_registry(registry):
        info = pretrained.pretrained_info(name, registry=registry)          # SHA-256 checked before unpickling
        stored = torch.load(info["path"], map_location="cpu", weights_only=True)
        for route, (_, nets) in pretrained.ROUTES.items():
            for net in nets:
                spec = stored["routes"][route]["model_specs"][net]
                assert set(stored["routes"][route]["models"][net]) == set(build_model(spec).state_dict()), net
            colorizer = pretrained.load_pretrained(name, route=route, registry=registry)
            with torch.no_grad():
                out = colorizer(image(n=1, h=40, w=48))
            assert out.shape == (1, 3, 40, 48) and torch.isfinite(out).all()
