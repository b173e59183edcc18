"""Tests of course_lib.losses against independent references (scikit-image, scipy, numpy formulas)."""

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from skimage import data, transform
from skimage.metrics import structural_similarity

from course_lib import losses
from course_lib.losses import (
    MS_SSIM_MIN_SIZE,
    MS_SSIM_WEIGHTS,
    LossWeights,
    chroma_loss,
    colourfulness_loss,
    colourfulness_map,
    cycle_loss,
    identity_loss,
    lsgan_loss,
    mix_loss,
    ms_ssim,
    multiscale_mix_loss,
    ssim,
)


def _natural(size):
    """Two pairs of natural RGB images in [0, 1] (float64, H x W x 3): a colorization-like pair (a photo and a
    blurred, colour-shifted version of it) and an unrelated pair."""
    astro = transform.resize(data.astronaut()[:400, 50:450], (size, size), anti_aliasing=True)
    cat = transform.resize(data.chelsea()[:, 50:350], (size, size), anti_aliasing=True)
    coffee = transform.resize(data.coffee()[:, 100:500], (size, size), anti_aliasing=True)
    shifted = np.clip(gaussian_filter(astro, sigma=(1.0, 1.0, 0)) * np.array([0.9, 1.05, 0.8]), 0, 1)
    return np.stack([astro, cat]), np.stack([shifted, coffee])


def _to_model(batch01):
    """N x H x W x C in [0, 1] -> NCHW float32 tensor in [-1, 1]."""
    return torch.from_numpy(np.moveaxis(batch01, -1, 1)).float() * 2 - 1


def _from_model(t):
    """NCHW tensor in [-1, 1] -> N x H x W x C float64 in [0, 1] (what the reference sees)."""
    return np.moveaxis(t.detach().double().numpy(), 1, -1) / 2 + 0.5


def _skimage_ssim(a01, b01):
    return structural_similarity(
        a01, b01, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=-1
    )


def _reference_ms_ssim(a01, b01):
    """MS-SSIM of one H x W x C pair (Wang et al. 2003), written with scipy and scikit-image, per channel."""
    k1, k2 = 0.01, 0.03
    values = []
    for c in range(a01.shape[-1]):
        x, y = a01[..., c], b01[..., c]
        result = 1.0
        for scale, weight in enumerate(MS_SSIM_WEIGHTS):
            if scale < len(MS_SSIM_WEIGHTS) - 1:
                blur = lambda im: gaussian_filter(im, 1.5, truncate=3.5)[5:-5, 5:-5]  # noqa: E731
                mx, my = blur(x), blur(y)
                vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
                cs = ((2 * cxy + k2**2) / (vx + vy + k2**2)).mean()
                result *= max(cs, 1e-6) ** weight
                h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2  # 2 x 2 block mean
                x = x[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
                y = y[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
            else:
                last = structural_similarity(
                    x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1
                )
                result *= max(last, 1e-6) ** weight
        values.append(result)
    return float(np.mean(values))


@pytest.fixture(scope="module")
def small_pair():
    a, b = _natural(48)
    return _to_model(a), _to_model(b)


@pytest.fixture(scope="module")
def large_pair():
    a, b = _natural(MS_SSIM_MIN_SIZE)
    return _to_model(a), _to_model(b)


# ---------------------------------------------------------------------------------------------------- SSIM
def test_ssim_equals_skimage_gaussian_ssim_per_channel(small_pair):
    x, y = small_pair
    reference = np.mean([_skimage_ssim(a, b) for a, b in zip(_from_model(x), _from_model(y))])
    assert abs(ssim(x, y).item() - reference) < 1e-4


def test_ssim_equals_skimage_on_single_channel_and_non_square_images(small_pair):
    x, y = small_pair[0][:, :1, :, :40], small_pair[1][:, :1, :, :40]
    a, b = _from_model(x)[..., 0], _from_model(y)[..., 0]
    reference = np.mean(
        [
            structural_similarity(p, q, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1)
            for p, q in zip(a, b)
        ]
    )
    assert abs(ssim(x, y).item() - reference) < 1e-4


def test_ms_ssim_equals_scipy_skimage_reference_on_large_images(large_pair):
    x, y = large_pair
    reference = np.mean([_reference_ms_ssim(a, b) for a, b in zip(_from_model(x), _from_model(y))])
    assert abs(ms_ssim(x, y).item() - reference) < 1e-4


def test_ms_ssim_falls_back_to_single_scale_ssim_below_threshold(small_pair):
    x, y = small_pair
    assert ms_ssim(x, y).item() == pytest.approx(ssim(x, y).item(), abs=1e-7)
    cropped = (x[..., : MS_SSIM_MIN_SIZE - 1], y[..., : MS_SSIM_MIN_SIZE - 1])
    assert MS_SSIM_MIN_SIZE == 176
    assert ms_ssim(*cropped).item() == pytest.approx(ssim(*cropped).item(), abs=1e-7)


def test_ssim_and_ms_ssim_of_identical_images_are_one(small_pair, large_pair):
    assert ssim(small_pair[0], small_pair[0]).item() == pytest.approx(1.0, abs=1e-6)
    assert ms_ssim(large_pair[0], large_pair[0]).item() == pytest.approx(1.0, abs=1e-6)


def test_ms_ssim_of_anticorrelated_images_stays_finite_with_finite_gradients(large_pair):
    x = large_pair[0].clone().requires_grad_(True)
    value = ms_ssim(x, -large_pair[0])  # negative contrast-structure at every scale: clamped
    value.backward()
    assert torch.isfinite(value) and 0 <= value.item() < 0.1
    assert torch.isfinite(x.grad).all()


def test_ssim_rejects_images_smaller_than_the_window():
    x = torch.zeros(1, 3, 10, 32)
    with pytest.raises(ValueError, match="11"):
        ssim(x, x)


# ---------------------------------------------------------------------------------------------------- L_mix
def test_mix_loss_equals_zhao_formula_with_skimage_ssim_and_numpy_l1(small_pair):
    x, y = small_pair
    a, b = _from_model(x), _from_model(y)
    s = np.mean([_skimage_ssim(p, q) for p, q in zip(a, b)])
    expected = 0.84 * (1 - s) + 0.16 * np.abs(a - b).mean()
    assert mix_loss(x, y).item() == pytest.approx(expected, abs=1e-4)
    expected_half = 0.5 * (1 - s) + 0.5 * np.abs(a - b).mean()
    assert mix_loss(x, y, alpha=0.5).item() == pytest.approx(expected_half, abs=1e-4)


def test_mix_loss_uses_ms_ssim_on_large_images(large_pair):
    x, y = large_pair
    expected = 0.84 * (1 - ms_ssim(x, y).item()) + 0.16 * ((x - y).abs().mean().item() / 2)
    assert mix_loss(x, y).item() == pytest.approx(expected, abs=1e-6)


def test_mix_loss_of_identical_images_is_zero(small_pair, large_pair):
    assert mix_loss(small_pair[0], small_pair[0]).item() == pytest.approx(0.0, abs=1e-6)
    assert mix_loss(large_pair[0], large_pair[0]).item() == pytest.approx(0.0, abs=1e-6)


def test_multiscale_mix_loss_sums_mix_loss_against_block_averaged_targets(small_pair):
    # Eq. (2)/(3): predictions coarsest first (12, 24, 48 px) against the target area-resized to each size
    target = small_pair[0]
    t = target.double().numpy()
    predictions = [small_pair[1][..., ::4, ::4].contiguous(), small_pair[1][..., ::2, ::2].contiguous(), small_pair[1]]
    expected = 0.0
    for pred in predictions:
        f = target.shape[-1] // pred.shape[-1]
        n, c, h, w = t.shape
        resized = torch.from_numpy(t.reshape(n, c, h // f, f, w // f, f).mean(axis=(3, 5))).float()
        expected += mix_loss(pred, resized).item()
    assert multiscale_mix_loss(predictions, target).item() == pytest.approx(expected, abs=1e-5)


def test_multiscale_mix_loss_is_zero_for_exact_pyramid(small_pair):
    target = small_pair[0]
    pyramid = [torch.nn.functional.avg_pool2d(target, 4), torch.nn.functional.avg_pool2d(target, 2), target]
    assert multiscale_mix_loss(pyramid, target).item() == pytest.approx(0.0, abs=1e-6)


def test_multiscale_mix_loss_rejects_prediction_larger_than_target(small_pair):
    with pytest.raises(ValueError, match="predictions"):
        multiscale_mix_loss([small_pair[0]], small_pair[0][..., :24, :24])


# ------------------------------------------------------------------------------- the chroma term (not the paper)
def test_chroma_loss_is_the_l1_of_rgb_minus_bt601_luminance_against_numpy(small_pair):
    p01 = (small_pair[1].double().numpy() + 1) / 2
    t01 = (small_pair[0].double().numpy() + 1) / 2
    luma = np.array([0.299, 0.587, 0.114])
    chroma = lambda x: x - np.einsum("nchw,c->nhw", x, luma)[:, None]   # noqa: E731
    expected = np.abs(chroma(p01) - chroma(t01)).mean()
    assert chroma_loss(small_pair[1], small_pair[0]).item() == pytest.approx(expected, rel=1e-5)


def test_chroma_loss_ignores_a_gray_offset_and_sees_a_cast_of_equal_luminance(small_pair):
    target = small_pair[0] * 0.8                                  # room for the offsets below
    assert chroma_loss(target + 0.15, target).item() == pytest.approx(0.0, abs=1e-7)
    # a pure red push of d (in [-1, 1]): chroma difference (d/2)(0.701, -0.299, -0.299), mean |.| known exactly
    d = 0.1
    red = target.clone()
    red[:, 0] += d
    assert chroma_loss(red, target).item() == pytest.approx(d / 2 * (0.701 + 0.299 + 0.299) / 3, rel=1e-5)
    # mix_loss's L1 term sees the gray offset as much as the cast; the chroma term only the cast
    assert mix_loss(target + 0.15, target).item() > 0.01


def test_multiscale_mix_loss_adds_the_weighted_chroma_term_at_every_scale(small_pair):
    target, pred = small_pair
    predictions = [torch.nn.functional.avg_pool2d(pred, 2), pred]
    half = torch.nn.functional.avg_pool2d(target, 2)
    extra = chroma_loss(predictions[0], half) + chroma_loss(pred, target)
    assert (multiscale_mix_loss(predictions, target, chroma=2.5).item()
            == pytest.approx(multiscale_mix_loss(predictions, target).item() + 2.5 * extra.item(), rel=1e-5))
    leaf = pred.clone().requires_grad_(True)
    chroma_loss(leaf, target).backward()
    assert torch.isfinite(leaf.grad).all() and leaf.grad.abs().sum() > 0
    # a gray offset changes nothing, so the gradient has no component along (1, 1, 1): channels sum to 0
    assert leaf.grad.sum(dim=1).abs().max().item() < 1e-4 * leaf.grad.abs().max().item()
    with pytest.raises(ValueError, match="chroma"):
        multiscale_mix_loss(predictions, target, chroma=-1.0)
    with pytest.raises(ValueError, match="RGB"):
        chroma_loss(pred[:, :1], target[:, :1])


# ------------------------------------------------------------------- the colourfulness-matching term (not the paper)
def _exact_8bit(images01):
    """[0, 1] float images -> model-space tensors whose 8-bit form (metrics.to_uint8) is exactly round(x * 255)."""
    return torch.from_numpy(np.round(np.moveaxis(images01, -1, 1) * 255) / 255).float() * 2 - 1


def test_colourfulness_map_is_hasler_suesstrunk_of_the_metrics_module_over_255():
    target, pred = (_exact_8bit(x) for x in _natural(48))
    from course_lib.metrics import colourfulness
    for images in (target, pred):
        assert colourfulness_map(images).double().numpy() * 255 == pytest.approx(colourfulness(images), rel=1e-4)
    expected = np.abs(colourfulness(pred) - colourfulness(target)).mean() / 255
    assert colourfulness_loss(pred, target).item() == pytest.approx(expected, rel=1e-4)


def test_colourfulness_loss_ignores_a_gray_offset_and_sees_a_desaturation(small_pair):
    target = small_pair[0] * 0.8                                  # room for the offsets below
    assert colourfulness_loss(target + 0.15, target).item() == pytest.approx(0.0, abs=1e-6)
    gray = target.mean(dim=1, keepdim=True)
    faint = gray + 0.25 * (target - gray)                       # a quarter of the chroma: M falls to a quarter
    m = colourfulness_map(target)
    assert colourfulness_loss(faint, target).item() == pytest.approx(0.75 * m.mean().item(), rel=1e-4)
    assert colourfulness_loss(gray.expand(-1, 3, -1, -1), target).item() == pytest.approx(m.mean().item(), rel=1e-4)


def test_colourfulness_loss_gradient_restores_colour_and_is_finite_at_a_gray_image(small_pair):
    target = small_pair[0] * 0.5                                  # room for twice its chroma
    gray = target.mean(dim=1, keepdim=True)
    for scale, direction in ((0.25, +1), (2.0, -1)):             # too faint -> more colour; too vivid -> less
        leaf = (gray + scale * (target - gray)).requires_grad_(True)
        colourfulness_loss(leaf, target).backward()
        stepped = (leaf - 0.05 * leaf.grad / leaf.grad.abs().max()).detach()
        change = colourfulness_map(stepped) - colourfulness_map(leaf.detach())
        assert (direction * change > 0).all()
        # a gray offset changes nothing, so the gradient has no component along (1, 1, 1)
        assert leaf.grad.sum(dim=1).abs().max().item() < 1e-4 * leaf.grad.abs().max().item()
    flat = gray.expand(-1, 3, -1, -1).clone().requires_grad_(True)
    colourfulness_loss(flat, target).backward()
    assert torch.isfinite(flat.grad).all()


def test_multiscale_mix_loss_adds_the_weighted_colourfulness_term_at_every_scale(small_pair):
    target, pred = small_pair
    predictions = [torch.nn.functional.avg_pool2d(pred, 2), pred]
    half = torch.nn.functional.avg_pool2d(target, 2)
    extra = colourfulness_loss(predictions[0], half) + colourfulness_loss(pred, target)
    assert extra.item() > 0.01
    assert (multiscale_mix_loss(predictions, target, colour_match=1.5).item()
            == pytest.approx(multiscale_mix_loss(predictions, target).item() + 1.5 * extra.item(), rel=1e-5))
    with pytest.raises(ValueError, match="colour_match"):
        multiscale_mix_loss(predictions, target, colour_match=-1.0)
    with pytest.raises(ValueError, match="RGB"):
        colourfulness_loss(pred[:, :1], target[:, :1])


# ---------------------------------------------------------------------------------------------------- Eq. (1)
def test_lsgan_loss_is_least_squares_against_one_or_zero():
    scores = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
    assert lsgan_loss(scores, True).item() == pytest.approx(np.mean([1.0, 0.0, 1.0, 4.0]))
    assert lsgan_loss(scores, False).item() == pytest.approx(np.mean([0.0, 1.0, 4.0, 1.0]))
    assert lsgan_loss(torch.ones(2, 1, 4, 4), True).item() == 0.0
    assert lsgan_loss(torch.zeros(2, 1, 4, 4), False).item() == 0.0


def test_cycle_and_identity_losses_are_mean_absolute_error(small_pair):
    x, y = small_pair
    expected = np.abs(x.numpy() - y.numpy()).mean()
    assert cycle_loss(x, y).item() == pytest.approx(expected, rel=1e-5)
    assert identity_loss(x, y).item() == pytest.approx(expected, rel=1e-5)
    assert cycle_loss(x, x).item() == 0.0 and identity_loss(y, y).item() == 0.0


def test_loss_weights_default_to_the_paper_and_offer_cyclegan():
    w = LossWeights()
    assert (w.lambda_cyc, w.lambda_idt, w.lambda_tran, w.lambda_feat, w.lambda_paired) == (1, 1, 1, 1, 0)
    c = LossWeights.cyclegan()
    assert (c.lambda_cyc, c.lambda_idt) == (10.0, 5.0)
    with pytest.raises(ValueError, match="lambda_cyc"):
        LossWeights(lambda_cyc=-1)


# ---------------------------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("kind", ["natural", "constant", "black"])
@pytest.mark.parametrize("name", ["ssim", "ms_ssim", "mix", "multiscale", "cycle", "identity", "lsgan"])
def test_every_loss_has_finite_gradients(name, kind, small_pair):
    size = 24
    if kind == "natural":
        pred0, target = small_pair[1][:1, :, :size, :size], small_pair[0][:1, :, :size, :size]
    elif kind == "constant":
        pred0, target = torch.full((1, 3, size, size), 0.3), torch.full((1, 3, size, size), 0.3)
    else:
        pred0, target = torch.full((1, 3, size, size), -1.0), torch.full((1, 3, size, size), -1.0)
    pred = pred0.clone().requires_grad_(True)
    fns = {
        "ssim": lambda p: ssim(p, target),
        "ms_ssim": lambda p: ms_ssim(p, target),
        "mix": lambda p: mix_loss(p, target),
        "multiscale": lambda p: multiscale_mix_loss([p[..., ::2, ::2] * 0.5 + p[..., 1::2, 1::2] * 0.5, p], target),
        "cycle": lambda p: cycle_loss(p, target),
        "identity": lambda p: identity_loss(p, target),
        "lsgan": lambda p: lsgan_loss(p, True) + lsgan_loss(p, False),
    }
    value = fns[name](pred)
    value.backward()
    assert value.dim() == 0 and torch.isfinite(value)
    assert pred.grad is not None and torch.isfinite(pred.grad).all()


def test_ms_ssim_gradients_are_finite_on_large_constant_images():
    pred = torch.full((1, 1, MS_SSIM_MIN_SIZE, MS_SSIM_MIN_SIZE), -1.0, requires_grad=True)
    target = torch.full_like(pred, 0.5)
    mix_loss(pred, target).backward()
    assert torch.isfinite(pred.grad).all()


# ---------------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "fn, names",
    [(ssim, ("x", "y")), (ms_ssim, ("x", "y")), (mix_loss, ("pred", "target")),
     (cycle_loss, ("reconstructed", "original")), (identity_loss, ("same", "original"))],
)
def test_bad_input_raises_value_error_naming_the_argument(fn, names):
    good = torch.zeros(1, 3, 16, 16)
    with pytest.raises(ValueError, match=names[0]):
        fn(torch.zeros(1, 3, 16, 16, dtype=torch.uint8), good)  # uint8 tensor
    with pytest.raises(ValueError, match=names[1]):
        fn(good, torch.full((1, 3, 16, 16), 2.0))  # outside [-1, 1]
    with pytest.raises(ValueError, match=names[0]):
        fn(torch.zeros(3, 16, 16), torch.zeros(3, 16, 16))  # not NCHW
    with pytest.raises(ValueError, match="same shape"):
        fn(good, torch.zeros(1, 3, 16, 20))


def test_multiscale_and_lsgan_reject_bad_input():
    target = torch.zeros(1, 3, 16, 16)
    with pytest.raises(ValueError, match="predictions"):
        multiscale_mix_loss([], target)
    with pytest.raises(ValueError, match=r"predictions\[0\]"):
        multiscale_mix_loss([torch.zeros(1, 1, 16, 16)], target)
    with pytest.raises(ValueError, match="target_is_real"):
        lsgan_loss(torch.zeros(1, 1, 4, 4), 1)
    with pytest.raises(ValueError, match="alpha"):
        mix_loss(target, target, alpha=1.5)


def test_losses_module_exports_the_contract_names():
    for name in ["ssim", "ms_ssim", "mix_loss", "multiscale_mix_loss", "chroma_loss", "colourfulness_loss",
                 "lsgan_loss", "cycle_loss", "identity_loss", "LossWeights"]:
        assert name in losses.__all__ and callable(getattr(losses, name))
