"""Tests of course_lib.models: the architecture of Fig. 2, its ablation switches, and input handling.

Everything is tiny (width 4, 32-64 px) so the file runs in seconds on one CPU thread.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models import (FEB, RCAB, SCCM, CoordinateAttention, FeatureDiscriminator, MPFNet, MPFNetConfig,
                               PatchDiscriminator, PlainHead, SqueezeExcitation, UNetBaseline, count_parameters,
                               init_weights, make_attention, pad_to_multiple)

SMALL = dict(width=4, depth=2)


def small_mpfnet(in_channels=1, out_channels=3, seed=0, **overrides):
    torch.manual_seed(seed)
    return MPFNet(in_channels, out_channels, **{**SMALL, **overrides})


def image(n=2, c=1, h=32, w=32, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, h, w, generator=g) * 2 - 1


def count(module, kind):
    return sum(isinstance(m, kind) for m in module.modules())


def randomize(module, std=0.5, seed=3):
    """Large random weights (init_weights' N(0, 0.02) keeps every gate near 0.5, hiding mistakes)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return module


# --------------------------------------------------------------------------------------------------------
# Coordinate attention (Fig. 2(b), Hou et al. 2021)
# --------------------------------------------------------------------------------------------------------

def reference_coordinate_attention(ca, x):
    """Independent computation from the module's weights: pool, shared 1x1, h-swish, per-direction 1x1."""
    w1, b1 = ca.shared.weight[:, :, 0, 0], ca.shared.bias
    wh, bh = ca.conv_h.weight[:, :, 0, 0], ca.conv_h.bias
    ww, bw = ca.conv_w.weight[:, :, 0, 0], ca.conv_w.bias
    z_h = x.mean(dim=3)                                          # [N, C, H]
    z_w = x.mean(dim=2)                                          # [N, C, W]

    def hswish(t):
        return t * torch.clamp(t + 3, 0, 6) / 6

    a_h = hswish(torch.einsum("kc,nch->nkh", w1, z_h) + b1[None, :, None])
    a_w = hswish(torch.einsum("kc,ncw->nkw", w1, z_w) + b1[None, :, None])
    g_h = torch.sigmoid(torch.einsum("ck,nkh->nch", wh, a_h) + bh[None, :, None])
    g_w = torch.sigmoid(torch.einsum("ck,nkw->ncw", ww, a_w) + bw[None, :, None])
    return x * g_h[:, :, :, None] * g_w[:, :, None, :], g_h, g_w


def test_coordinate_attention_matches_independent_reference():
    ca = randomize(CoordinateAttention(16, reduction=4))
    x = image(n=2, c=16, h=7, w=11)
    expected, g_h, g_w = reference_coordinate_attention(ca, x)
    torch.testing.assert_close(ca(x), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ca.last_gates[0], g_h[..., None])
    torch.testing.assert_close(ca.last_gates[1], g_w[:, :, None, :])
    assert ca.shared.out_channels == max(8, 16 // 4)


def test_coordinate_attention_hidden_width_is_at_least_8():
    assert CoordinateAttention(64, reduction=16).shared.out_channels == 8
    assert CoordinateAttention(256, reduction=16).shared.out_channels == 16


def test_coordinate_attention_input_varying_along_h_gives_w_gate_constant_along_w():
    ca = randomize(CoordinateAttention(8, reduction=2))
    rows = torch.randn(1, 8, 12, 1)
    ca(rows.expand(1, 8, 12, 10).contiguous())
    gate_h, gate_w = ca.last_gates
    assert gate_h.shape == (1, 8, 12, 1) and gate_w.shape == (1, 8, 1, 10)
    torch.testing.assert_close(gate_w, gate_w[..., :1].expand_as(gate_w))        # constant along W
    assert gate_h.std(dim=2).min() > 1e-4                                          # varies along H


def test_coordinate_attention_input_varying_along_w_gives_h_gate_constant_along_h():
    ca = randomize(CoordinateAttention(8, reduction=2))
    cols = torch.randn(1, 8, 1, 10)
    ca(cols.expand(1, 8, 12, 10).contiguous())
    gate_h, gate_w = ca.last_gates
    torch.testing.assert_close(gate_h, gate_h[:, :, :1].expand_as(gate_h))        # constant along H
    assert gate_w.std(dim=3).min() > 1e-4                                          # varies along W


def test_coordinate_attention_output_at_hw_depends_only_on_row_h_and_column_w():
    ca = randomize(CoordinateAttention(4, reduction=1))
    x = image(n=1, c=4, h=9, w=9)
    y = x.clone()
    y[0, :, 3, 5] += 1.0
    changed = (ca(y) - ca(x)).abs().amax(dim=(0, 1)) > 1e-7
    outside = torch.ones(9, 9, dtype=torch.bool)
    outside[3, :] = False
    outside[:, 5] = False
    assert not changed[outside].any()
    assert changed[3, :].any() and changed[:, 5].any()


def test_coordinate_attention_treats_images_independently():
    ca = randomize(CoordinateAttention(8, reduction=2))
    x = image(n=3, c=8, h=6, w=5)
    torch.testing.assert_close(ca(x)[1:2], ca(x[1:2]))


def test_squeeze_excitation_gate_is_one_per_channel():
    se = randomize(SqueezeExcitation(8, reduction=2))
    x = torch.ones(1, 8, 5, 6)
    gate = se(x) / x
    torch.testing.assert_close(gate, gate[..., :1, :1].expand_as(gate))


def test_make_attention_kinds():
    assert isinstance(make_attention("coordinate", 8, 4), CoordinateAttention)
    assert isinstance(make_attention("se", 8, 4), SqueezeExcitation)
    assert isinstance(make_attention("none", 8, 4), nn.Identity)
    with pytest.raises(ValueError, match="attention.*coordinate"):
        make_attention("spatial", 8, 4)


# --------------------------------------------------------------------------------------------------------
# RCAB (Fig. 2(b)), FEB (Fig. 2(c)), SCCM
# --------------------------------------------------------------------------------------------------------

def test_rcab_is_x_plus_attention_of_conv_relu_conv():
    block = randomize(RCAB(8, attention="coordinate", reduction=2))
    x = image(n=1, c=8, h=6, w=7)
    conv1, conv2 = block.body[0], block.body[2]
    body = conv2(F.relu(conv1(x)))
    expected, _, _ = reference_coordinate_attention(block.attention, body)
    torch.testing.assert_close(block(x), x + expected, rtol=1e-5, atol=1e-6)


def test_rcab_without_attention_is_a_plain_residual_block():
    block = RCAB(4, attention="none")
    with torch.no_grad():
        block.body[2].weight.zero_()
        block.body[2].bias.zero_()
    x = image(n=1, c=4, h=5, w=5)
    torch.testing.assert_close(block(x), x)


def test_feb_structure_follows_fig_2c():
    feb = FEB(1, 4, width=4, depth=3, attention="coordinate", norm="instance", reduction=16)
    assert len(feb.encoder) == 3 and len(feb.decoder) == 3
    step = feb.encoder[0]
    assert isinstance(step.act, nn.LeakyReLU) and step.act.negative_slope == 0.2
    assert step.down.kernel_size == (4, 4) and step.down.stride == (2, 2)
    assert isinstance(step.rcab, RCAB) and isinstance(step.norm, nn.InstanceNorm2d)
    up = feb.decoder[0]
    assert isinstance(up.act, nn.ReLU) and isinstance(up.up, nn.ConvTranspose2d)
    assert up.up.kernel_size == (4, 4) and up.up.stride == (2, 2) and isinstance(up.rcab, RCAB)
    assert count(feb.bottleneck, RCAB) == 0                                    # bottleneck: 3x3 conv only
    assert [m.kernel_size for m in feb.bottleneck if isinstance(m, nn.Conv2d)] == [(3, 3)]
    assert count(feb, RCAB) == 6 and count(feb, nn.InstanceNorm2d) == 6
    # UNet skips: every decoder step takes [previous, matching encoder output], twice the channels
    assert [d.up.in_channels for d in feb.decoder] == [2 * e.down.out_channels for e in reversed(feb.encoder)]


def test_feb_decoder_steps_receive_the_matching_encoder_outputs():
    feb = FEB(1, 4, width=4, depth=3, attention="coordinate", norm="instance", reduction=16)
    encoded, decoder_inputs = [], []
    hooks = [feb.stem.register_forward_hook(lambda m, a, out: encoded.append(out))]
    hooks += [s.register_forward_hook(lambda m, a, out: encoded.append(out)) for s in feb.encoder]
    hooks += [s.register_forward_pre_hook(lambda m, a: decoder_inputs.append(a[0])) for s in feb.decoder]
    hooks.append(feb.head.register_forward_pre_hook(lambda m, a: decoder_inputs.append(a[0])))
    feb(image(n=1, h=16, w=16))
    for h in hooks:
        h.remove()
    for inp, skip in zip(decoder_inputs, reversed(encoded)):   # innermost first; the head gets the stem
        torch.testing.assert_close(inp[:, -skip.shape[1]:], skip)


def test_feb_any_size_and_innermost_1x1_level_runs_in_training_mode():
    feb = FEB(2, 5, width=4, depth=3, attention="coordinate", norm="instance", reduction=16).train()
    assert feb(image(n=2, c=2, h=8, w=8)).shape == (2, 5, 8, 8)      # innermost level is 1x1: no norm there
    assert feb(image(n=1, c=2, h=13, w=21)).shape == (1, 5, 13, 21)


def test_sccm_prediction_and_refinement_equations():
    sccm = randomize(SCCM(6, image_channels=3, input_channels=1))
    f, x_s = image(n=2, c=6, h=8, w=8), image(n=2, c=1, h=8, w=8, seed=2)
    y, refined = sccm(f, x_s)
    expected_y = torch.tanh(sccm.to_image(f) + sccm.skip(x_s))
    torch.testing.assert_close(y, expected_y)
    torch.testing.assert_close(refined, f + sccm.features(f) * torch.sigmoid(sccm.gate(expected_y)))
    assert y.shape == (2, 3, 8, 8) and refined.shape == f.shape
    assert sccm.skip.kernel_size == (1, 1) and sccm.skip.in_channels == 1 and sccm.skip.out_channels == 3
    assert not torch.allclose(sccm(f, -x_s)[0], y)                     # the input image reaches y_s


# --------------------------------------------------------------------------------------------------------
# MPFNet (Fig. 2(a))
# --------------------------------------------------------------------------------------------------------

def test_mpfnet_shapes_at_three_scales_coarsest_first():
    model = small_mpfnet()
    predictions, info = model(image(h=64, w=64), return_features=True)
    assert [tuple(p.shape) for p in predictions] == [(2, 3, 16, 16), (2, 3, 32, 32), (2, 3, 64, 64)]
    assert [tuple(f.shape) for f in info["features"]] == [(2, 4, 16, 16), (2, 4, 32, 32), (2, 4, 64, 64)]
    assert len(info["attention"]) == count(model, CoordinateAttention) == 3 * 2 * 2
    for gate_h, gate_w in info["attention"].values():
        assert gate_h.dim() == 4 and gate_h.shape[3] == 1 and gate_w.shape[2] == 1


def test_mpfnet_odd_size_is_padded_and_cropped_back():
    model = small_mpfnet()
    predictions, info = model(image(n=1, h=37, w=50), return_features=True)
    assert [tuple(p.shape[-2:]) for p in predictions] == [(10, 13), (19, 25), (37, 50)]
    assert [tuple(f.shape[-2:]) for f in info["features"]] == [(10, 13), (19, 25), (37, 50)]
    assert model(image(n=1, h=8, w=9))[-1].shape == (1, 3, 8, 9)      # too small to reflect: replicate


def argmax_rc(grad):
    return divmod(int(grad[0].abs().sum(0).argmax()), grad.shape[-1])


def test_mpfnet_predictions_are_aligned_with_the_input_pixels():
    # With the SCCMs' conv(f) term zeroed, y_s = tanh(skip(x_s)): y_s(r, c) must depend on exactly the input
    # pixels of the k x k block under (r, c) (k = 4, 2, 1), which catches shifted, flipped or mis-cropped scales.
    model = small_mpfnet()
    with torch.no_grad():
        for head in model.heads:
            head.to_image.weight.zero_()
    x = image(n=1, h=37, w=50).requires_grad_(True)
    predictions = model(x)
    for prediction, k, (row, col) in zip(predictions, (4, 2, 1), [(5, 9), (12, 3), (30, 44)]):
        grad, = torch.autograd.grad(prediction[0, :, row, col].sum(), x, retain_graph=True)
        expected = torch.zeros(37, 50, dtype=torch.bool)
        expected[row * k:(row + 1) * k, col * k:(col + 1) * k] = True
        assert torch.equal(grad[0, 0] != 0, expected), k


def test_feb_features_are_aligned_with_the_input_pixels():
    # Without norm and attention the FEB is local and its shortest path (stem -> head, two 3x3 convs) dominates:
    # the output pixel (r, c) depends most on input pixels near (r, c), also after padding 37x50 -> 40x56.
    torch.manual_seed(0)
    feb = FEB(1, 2, width=4, depth=3, attention="none", norm="none", reduction=16)
    x = image(n=1, h=37, w=50).requires_grad_(True)
    for row, col in [(20, 25), (34, 47)]:
        grad, = torch.autograd.grad(feb(x)[0, :, row, col].sum(), x)
        r, c = argmax_rc(grad)
        assert abs(r - row) <= 2 and abs(c - col) <= 2


def test_mpfnet_translator_is_one_to_one_channel():
    model = small_mpfnet(1, 1)
    assert [p.shape[1] for p in model(image())] == [1, 1, 1]


def test_mpfnet_outputs_are_bounded_even_when_saturated():
    model = randomize(small_mpfnet(), std=1.0)
    for p in model(image() * 50):
        assert p.min() >= -1 and p.max() <= 1
    assert model(image() * 50)[-1].abs().max() > 0.99                 # really saturating: the bound matters


def test_mpfnet_gradients_reach_every_parameter():
    model = small_mpfnet()
    predictions, info = model(image(), return_features=True)
    loss = sum(p.square().mean() for p in predictions) + sum(f.square().mean() for f in info["features"])
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().max() > 0, name


def test_mpfnet_is_deterministic_under_a_fixed_seed():
    a, b, c = small_mpfnet(seed=5), small_mpfnet(seed=5), small_mpfnet(seed=6)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name
    x = image()
    assert torch.equal(a(x)[-1], b(x)[-1])
    assert not torch.equal(a(x)[-1], c(x)[-1])


def test_init_weights_is_pix2pix_normal():
    model = MPFNet(1, 3, width=16, depth=3)
    weights = torch.cat([m.weight.flatten() for m in model.modules() if isinstance(m, nn.Conv2d)])
    assert abs(weights.std().item() - 0.02) < 0.002 and abs(weights.mean().item()) < 0.002


def test_mpfnet_treats_images_of_a_batch_independently():
    model = small_mpfnet().train()
    x = image(n=3)
    torch.testing.assert_close(model(x)[-1][1:2], model(x[1:2])[-1], rtol=1e-4, atol=1e-5)


def test_cross_scale_skip_feeds_coarse_features_to_finer_scales():
    model = small_mpfnet()
    assert [feb.in_channels for feb in model.febs] == [1, 1 + 4, 1 + 4]
    # the finest prediction changes when only the coarsest FEB changes
    x = image()
    before = model(x)[-1]
    with torch.no_grad():
        model.febs[0].head[1].bias.add_(0.5)
    assert not torch.allclose(model(x)[-1], before)


# ablation switches ----------------------------------------------------------------------------------------

def test_attention_ablation_removes_attention_modules():
    coordinate, se, none = (small_mpfnet(attention=a) for a in ("coordinate", "se", "none"))
    assert count(coordinate, CoordinateAttention) == 12 and count(coordinate, SqueezeExcitation) == 0
    assert count(se, SqueezeExcitation) == 12 and count(se, CoordinateAttention) == 0
    assert count(none, CoordinateAttention) == 0 and count(none, SqueezeExcitation) == 0
    assert count_parameters(none) < count_parameters(se) < count_parameters(coordinate)
    assert len(none(image(), return_features=True)[1]["attention"]) == 0


def test_norm_ablation_swaps_or_removes_norm_layers():
    instance, batch, none = (small_mpfnet(norm=n) for n in ("instance", "batch", "none"))
    assert count(instance, nn.InstanceNorm2d) == 12 and count(instance, nn.BatchNorm2d) == 0
    assert count(batch, nn.BatchNorm2d) == 12 and count(batch, nn.InstanceNorm2d) == 0
    assert count(none, nn.InstanceNorm2d) == 0 and count(none, nn.BatchNorm2d) == 0
    assert count_parameters(none) < count_parameters(batch)       # BatchNorm has affine parameters
    assert batch(image())[-1].shape == (2, 3, 32, 32)


@pytest.mark.parametrize("scales", [1, 2, 3])
def test_scales_ablation_sets_the_number_of_febs_and_predictions(scales):
    model = small_mpfnet(scales=scales)
    assert count(model, FEB) == scales and count(model, SCCM) == scales
    sizes = [p.shape[-1] for p in model(image(h=32, w=32))]
    assert sizes == [32 // 2 ** k for k in range(scales - 1, -1, -1)]


def test_scales_ablation_drops_parameters():
    counts = [count_parameters(small_mpfnet(scales=s)) for s in (1, 2, 3)]
    assert counts[0] < counts[1] < counts[2]


def test_sccm_ablation_uses_a_plain_head_and_leaves_features_unrefined():
    with_sccm, without = small_mpfnet(sccm=True), small_mpfnet(sccm=False)
    assert count(without, SCCM) == 0 and count(without, PlainHead) == 3
    assert count_parameters(without) < count_parameters(with_sccm)
    predictions, info = without(image(), return_features=True)
    for f, raw in zip(info["features"], info["feb_features"]):
        assert torch.equal(f, raw)
    for p in predictions:
        assert p.min() >= -1 and p.max() <= 1


# errors ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, valid", [
    ("attention", "spatial", "coordinate"), ("norm", "group", "instance"), ("scales", 4, r"\[1, 2, 3\]"),
    ("sccm", "yes", "True"), ("width", 0, "positive"), ("depth", -1, "positive"),
])
def test_config_validation_names_field_and_valid_values(field, value, valid):
    with pytest.raises(ValueError, match=rf"{field}.*{valid}"):
        MPFNetConfig(**{field: value})
    with pytest.raises(ValueError, match=field):
        MPFNet(1, 3, **{field: value})


def test_unknown_override_is_rejected_with_the_valid_fields():
    with pytest.raises(ValueError, match="widht.*width"):
        MPFNet(1, 3, widht=8)


def test_config_object_and_overrides_combine():
    model = MPFNet(1, 3, MPFNetConfig(width=4, depth=2, scales=2), attention="se")
    assert model.config == MPFNetConfig(width=4, depth=2, scales=2, attention="se")
    assert (model.in_channels, model.out_channels) == (1, 3)


@pytest.mark.parametrize("model_fn", [lambda: small_mpfnet(), lambda: UNetBaseline(1, 3, width=4, depth=3)])
def test_bad_inputs_raise_value_errors_naming_x(model_fn):
    model = model_fn()
    with pytest.raises(ValueError, match=r"x must be a 4-D tensor"):
        model(torch.zeros(1, 32, 32))
    with pytest.raises(ValueError, match=r"x must have 1 channel"):
        model(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"x must be at least 8x8"):
        model(torch.zeros(1, 1, 7, 32))
    with pytest.raises(ValueError, match=r"x must be a torch.Tensor"):
        model([[0.0]])


def test_pad_to_multiple_reflects_when_possible_and_replicates_otherwise():
    x = image(n=1, c=1, h=10, w=12)
    torch.testing.assert_close(pad_to_multiple(x, 16), F.pad(x, (0, 4, 0, 6), mode="reflect"))
    small = image(n=1, c=1, h=5, w=12)
    torch.testing.assert_close(pad_to_multiple(small, 16), F.pad(small, (0, 4, 0, 11), mode="replicate"))
    already = x[..., :8, :8]
    assert pad_to_multiple(already, 8) is already


# --------------------------------------------------------------------------------------------------------
# Discriminators and the UNet baseline
# --------------------------------------------------------------------------------------------------------

def gradient_window(disc, size, row, col):
    x = torch.randn(1, disc.in_channels, size, size, requires_grad=True)
    disc(x)[0, 0, row, col].backward()
    nz = x.grad[0].abs().sum(0) > 0
    rows, cols = nz.any(1).nonzero(), nz.any(0).nonzero()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_patch_discriminator_receptive_field_is_70():
    torch.manual_seed(0)
    disc = PatchDiscriminator(3, width=4, n_layers=3, norm="none")   # instance norm would spread gradients
    assert disc.receptive_field == 70
    assert gradient_window(disc, 128, 7, 7) == (70, 70)


def test_patch_discriminator_layout_and_raw_scores():
    disc = PatchDiscriminator(3, width=4)
    convs = [m for m in disc.modules() if isinstance(m, nn.Conv2d)]
    assert [c.stride for c in convs] == [(2, 2)] * 3 + [(1, 1)] * 2
    assert all(c.kernel_size == (4, 4) for c in convs)
    assert count(disc, nn.Sigmoid) == 0 and isinstance(list(disc.modules())[-1], nn.Conv2d)
    assert disc(image(c=3, h=64, w=64)).shape == (2, 1, 6, 6)
    with pytest.raises(ValueError, match="x must be at least 24x24"):
        disc(image(c=3, h=16, w=16))
    with pytest.raises(ValueError, match="x must have 3 channel"):
        disc(image(c=1, h=64, w=64))


def test_feature_discriminator_is_a_smaller_patchgan():
    torch.manual_seed(0)
    disc = FeatureDiscriminator(9, width=4, n_layers=2, norm="none")
    assert disc.receptive_field == 34 and gradient_window(disc, 64, 6, 6) == (34, 34)
    assert FeatureDiscriminator(9, width=4)(image(c=9, h=32, w=32)).shape == (2, 1, 6, 6)


@pytest.mark.parametrize("disc", [PatchDiscriminator(3, width=4), FeatureDiscriminator(4, width=4)])
def test_discriminator_gradients_reach_every_parameter(disc):
    disc(image(c=disc.in_channels, h=64, w=64)).square().mean().backward()
    for name, p in disc.named_parameters():
        assert p.grad is not None and p.grad.abs().max() > 0, name


def test_unet_baseline_returns_one_bounded_tensor_of_the_input_size():
    torch.manual_seed(0)
    unet = randomize(UNetBaseline(1, 3, width=4, depth=4), std=1.0)
    y = unet(image(h=37, w=50) * 10)
    assert isinstance(y, torch.Tensor) and y.shape == (2, 3, 37, 50)
    assert y.min() >= -1 and y.max() <= 1
    assert count(unet, nn.ConvTranspose2d) == 4


def test_unet_baseline_gradients_reach_every_parameter():
    torch.manual_seed(0)
    unet = UNetBaseline(1, 3, width=4, depth=3)
    unet(image()).square().mean().backward()
    for name, p in unet.named_parameters():
        assert p.grad is not None and p.grad.abs().max() > 0, name


def test_count_parameters():
    layer = nn.Conv2d(2, 3, 3)
    assert count_parameters(layer) == 2 * 3 * 9 + 3
    layer.bias.requires_grad_(False)
    assert count_parameters(layer, trainable_only=True) == 2 * 3 * 9
    assert init_weights(layer) is layer


# ---------------------------------------------------------------------------------------------------------------
# per-scale FEB depths
# ---------------------------------------------------------------------------------------------------------------
def _innermost_sizes(net: MPFNet, size: int) -> list[int]:
    """The spatial size of each FEB's bottleneck for a size x size input (recorded with forward hooks)."""
    sizes = []
    hooks = [feb.bottleneck.register_forward_hook(lambda m, a, out: sizes.append(out.shape[-1]))
             for feb in net.febs]
    net(torch.zeros(1, net.in_channels, size, size))
    for h in hooks:
        h.remove()
    return sizes


def test_per_scale_depths_stop_every_feb_at_the_same_size():
    uniform = MPFNet(1, 3, width=4, depth=5)
    per_scale = MPFNet(1, 3, width=4, depth=(3, 4, 5))
    assert [feb.depth for feb in per_scale.febs] == [3, 4, 5]
    assert _innermost_sizes(uniform, 256) == [2, 4, 8]     # the 1/4 scale went down to 2 x 2
    assert _innermost_sizes(per_scale, 256) == [8, 8, 8]
    assert uniform.multiple == 128 and per_scale.multiple == 32
    # fewer parameters: the coarse scales lose their deepest (widest) levels
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(per_scale) < count(uniform)


def test_per_scale_depths_pad_odd_sizes_and_train():
    net = MPFNet(1, 3, width=4, depth=[1, 2, 3])   # a list is accepted and stored as a tuple
    assert net.config.depth == (1, 2, 3) and net.multiple == 8   # every scale: 2**(2 - s) * 2**depth_s = 8
    x = torch.rand(2, 1, 37, 50) * 2 - 1
    outs = net(x)
    assert [tuple(o.shape[-2:]) for o in outs] == [(10, 13), (19, 25), (37, 50)]
    sum(o.mean() for o in outs).backward()
    # every FEB (each scale) receives a gradient
    assert all(feb.stem.weight.grad is not None and feb.stem.weight.grad.abs().sum() > 0 for feb in net.febs)


def test_per_scale_depths_must_match_the_scales():
    with pytest.raises(ValueError, match=r"depth.*2 per-scale depths.*3 scale"):
        MPFNetConfig(depth=(3, 4), scales=3)
    with pytest.raises(ValueError, match="depth must be a positive integer or a list"):
        MPFNetConfig(depth=(3, 0, 5))
    assert MPFNetConfig(depth=(4, 5), scales=2).depths == (4, 5)
    assert MPFNetConfig(depth=3, scales=2).depths == (3, 3)
