"""The exercise checks: each accepts its reference solution and rejects typical wrong answers with a message
that says what is wrong (course_lib/course/exercises/, course_lib/course/solutions.py), notebooks 00-06."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.course import exercises as E
from course_lib.course import solutions as S

BT601 = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)


def run(check, *args, capsys):
    """Run a check; return (result, printed text)."""
    result = check(*args)
    return result, capsys.readouterr().out


@pytest.mark.parametrize(
    "check, solution",
    [
        (E.check_to_model_range, S.to_model_range),
        (E.check_camera_response, S.camera_response),
        (E.check_luminance_weights, S.LUMINANCE_WEIGHTS),
        (E.check_to_gray, S.to_gray),
        (E.check_directional_pools, S.directional_pools),
        (E.check_instance_norm, S.instance_norm),
        (E.check_scale_targets, S.scale_targets),
        (E.check_psnr, S.psnr),
        (E.check_mix_loss, S.mix_loss),
    ],
)
def test_check_accepts_the_solution(check, solution, capsys):
    result, out = run(check, solution, capsys=capsys)
    assert result is True
    assert out.startswith("✅")


def test_solutions_agree_with_the_course_code():
    """What the notebooks' instructor cells asserted before the solutions left the notebooks."""
    from course_lib import data, losses, metrics

    rgb = torch.rand(3, 12, 10) * 2 - 1
    assert torch.allclose(S.to_model_range(data.tensor_to_uint8(rgb)), rgb, atol=1 / 127.5)          # 00
    cams, colors = data.camera_responses(), data.material_colors()
    for name in ["foliage", "water", "paint_red"]:                                                    # 01
        value = S.camera_response(data.material_spectrum(name), cams["illuminant"], cams["nir"])
        assert abs(value - colors[name]["nir_linear"]) < 1e-4
    batch = torch.rand(2, 3, 8, 8) * 2 - 1
    assert torch.allclose(S.to_gray(batch), data.to_gray(batch), atol=1e-6)                           # 02
    assert torch.allclose(S.instance_norm(batch), torch.nn.InstanceNorm2d(3)(batch), atol=1e-5)        # 04
    target = torch.rand(1, 3, 64, 64) * 2 - 1
    predictions = [torch.rand(1, 3, s, s) * 2 - 1 for s in (16, 32, 64)]
    by_hand = sum(losses.mix_loss(p, t) for p, t in zip(predictions, S.scale_targets(target, 3)))
    assert torch.allclose(by_hand, losses.multiscale_mix_loss(predictions, target), atol=1e-6)        # 05
    a, b = metrics.to_uint8(predictions[-1][0]), metrics.to_uint8(target[0])
    assert abs(S.psnr(a, b) - metrics.psnr(a, b)) < 1e-6                                              # 06
    assert torch.allclose(S.mix_loss(predictions[-1], target), losses.mix_loss(predictions[-1], target))  # < 176 px


@pytest.mark.parametrize(
    "check",
    [E.check_to_model_range, E.check_camera_response, E.check_to_gray, E.check_directional_pools,
     E.check_instance_norm, E.check_scale_targets, E.check_psnr, E.check_mix_loss],
)
def test_placeholder_gets_guidance_not_an_exception(check, capsys):
    def placeholder(*args):
        raise NotImplementedError

    result, out = run(check, placeholder, capsys=capsys)
    assert result is False
    assert "not written yet" in out


@pytest.mark.parametrize(
    "check", [E.check_to_model_range, E.check_to_gray, E.check_instance_norm, E.check_psnr],
)
def test_missing_return_is_reported(check, capsys):
    result, out = run(check, lambda *args: None, capsys=capsys)
    assert result is False
    assert "forget the `return`" in out


def test_crashing_attempt_is_reported_with_its_error(capsys):
    result, out = run(E.check_instance_norm, lambda x: x.foo(), capsys=capsys)
    assert result is False
    assert "AttributeError" in out


# ---------------------------------------------------------------------------------------------------- 00
@pytest.mark.parametrize(
    "attempt, expected",
    [
        (lambda im: torch.from_numpy(im).float() / 127.5 - 1, "channels first"),
        (lambda im: torch.from_numpy(im).permute(2, 0, 1).float() / 255, "in [0, 1]"),
        (lambda im: torch.from_numpy(im).permute(2, 0, 1).float(), "still 0..255"),
        (lambda im: torch.from_numpy(im).permute(2, 0, 1), "dtype torch.uint8"),
        (lambda im: im.transpose(2, 0, 1) / 127.5 - 1, "torch tensors"),
        (lambda im: torch.from_numpy(im.T.copy()).float() / 127.5 - 1, "swapped"),
        (lambda im: torch.from_numpy(im).permute(2, 0, 1).flip(0).float() / 127.5 - 1, "B, G, R"),
        (lambda im: (lambda t: (t - t.min()) / (t.max() - t.min()) * 2 - 1)(
            torch.from_numpy(im).permute(2, 0, 1).float()), "min/max"),
    ],
)
def test_to_model_range_diagnoses(attempt, expected, capsys):
    result, out = run(E.check_to_model_range, attempt, capsys=capsys)
    assert result is False
    assert expected in out


# ---------------------------------------------------------------------------------------------------- 01
@pytest.mark.parametrize(
    "attempt, expected",
    [
        (lambda r, e, s: float(np.sum(r * e * s)), "did not normalise"),
        (lambda r, e, s: float(np.sum(r * s) / np.sum(s)), "left out the illuminant"),
        (lambda r, e, s: float(np.sum(r * e) / np.sum(e)), "left out the sensor"),
        (lambda r, e, s: float(np.mean(r)), "averaged the reflectance"),
        (lambda r, e, s: r * e * s / np.sum(e * s), "expected one number"),
    ],
)
def test_camera_response_diagnoses(attempt, expected, capsys):
    result, out = run(E.check_camera_response, attempt, capsys=capsys)
    assert result is False
    assert expected in out


# ---------------------------------------------------------------------------------------------------- 02
@pytest.mark.parametrize(
    "weights, expected",
    [
        ((0.3, 0.6, 0.2), "sum to 1.1: BT.601 weights sum to 1"),
        ((1 / 3, 1 / 3, 1 / 3), "plain average"),
        ((0.114, 0.587, 0.299), "B, G, R order"),
        ((0.587, 0.299, 0.114), "wrong channels"),
        ((0.2126, 0.7152, 0.0722), "BT.709"),
        ((0.3, 0.6), "three numbers"),
        (..., "fill in"),
    ],
)
def test_luminance_weights_diagnoses(weights, expected, capsys):
    result, out = run(E.check_luminance_weights, weights, capsys=capsys)
    assert result is False
    assert expected in out


@pytest.mark.parametrize(
    "attempt, expected",
    [
        (lambda x: x.mean(dim=-3, keepdim=True), "plain average"),
        (lambda x: (x * BT601.flip(0)).sum(-3, keepdim=True), "B, G, R order"),
        (lambda x: (x * BT601).sum(-3), "dropped the channel dimension"),
        (lambda x: x * BT601, "still has 3 channels"),
        (lambda x: (x * BT601).sum(1, keepdim=True), "single image"),
        (lambda x: ((x + 1) / 2 * BT601).sum(-3, keepdim=True), "in [0, 1]"),
        (lambda x: (x * BT601).sum(-3, keepdim=True) + 0.1, "mid-gray"),
        (lambda x: (x * torch.tensor([0.3, 0.6, 0.2]).view(3, 1, 1)).sum(-3, keepdim=True), "sum to 1.1"),
    ],
)
def test_to_gray_diagnoses(attempt, expected, capsys):
    result, out = run(E.check_to_gray, attempt, capsys=capsys)
    assert result is False
    assert expected in out


def test_to_gray_solution_matches_the_data_layer():
    from course_lib.data import to_gray

    rgb = torch.rand(2, 3, 8, 8) * 2 - 1
    assert torch.allclose(S.to_gray(rgb), to_gray(rgb), atol=1e-6)


# ---------------------------------------------------------------------------------------------------- 03
@pytest.mark.parametrize(
    "attempt, expected",
    [
        (lambda x: (x.mean(2, keepdim=True), x.mean(3, keepdim=True)), "other direction"),
        (lambda x: (x.mean(3), x.mean(2)), "keepdim=True"),
        (lambda x: (x.amax(3, keepdim=True), x.mean(2, keepdim=True)), "maximum"),
        (lambda x: (x.sum(3, keepdim=True), x.sum(2, keepdim=True)), "sums"),
        (lambda x: x.mean(3, keepdim=True), "two tensors"),
    ],
)
def test_directional_pools_diagnoses(attempt, expected, capsys):
    result, out = run(E.check_directional_pools, attempt, capsys=capsys)
    assert result is False
    assert expected in out


def test_directional_pools_solution_matches_coordinate_attention_shapes():
    from course_lib.models import CoordinateAttention

    x = torch.randn(1, 8, 12, 20)
    ca = CoordinateAttention(8, reduction=4)
    ca(x)
    pool_h, pool_w = S.directional_pools(x)
    assert pool_h.shape == ca.last_gates[0].shape and pool_w.shape == ca.last_gates[1].shape


def _hand_gates(ca, x):
    h, w = x.shape[-2:]
    z = torch.cat([x.mean(3, keepdim=True), x.mean(2, keepdim=True).transpose(2, 3)], dim=2)
    y_h, y_w = torch.split(ca.act(ca.shared(z)), [h, w], dim=2)
    return torch.sigmoid(ca.conv_h(y_h)), torch.sigmoid(ca.conv_w(y_w.transpose(2, 3)))


def test_coordinate_gates_accepts_hand_built_gates(capsys):
    from course_lib.models import CoordinateAttention

    torch.manual_seed(0)
    x = torch.randn(1, 8, 12, 20)
    ca = CoordinateAttention(8, reduction=4)
    ca(x)
    result, out = run(E.check_coordinate_gates, *_hand_gates(ca, x), ca, capsys=capsys)
    assert result is True, out


def test_coordinate_gates_names_the_expected_shape(capsys):
    from course_lib.models import CoordinateAttention

    x = torch.randn(1, 8, 12, 20)
    ca = CoordinateAttention(8, reduction=4)
    ca(x)
    gate_h, gate_w = _hand_gates(ca, x)
    result, out = run(E.check_coordinate_gates, gate_w, gate_h, ca, capsys=capsys)
    assert result is False
    assert "your gate has shape (1, 8, 1, 20) but CoordinateAttention's H-gate is (N, C, H, 1) = (1, 8, 12, 1)" in out
    assert "swapped" in out


def test_coordinate_gates_detects_a_missing_sigmoid(capsys):
    from course_lib.models import CoordinateAttention

    torch.manual_seed(0)
    x = torch.randn(1, 8, 12, 20)
    ca = CoordinateAttention(8, reduction=4)
    for p in ca.parameters():
        torch.nn.init.normal_(p, 0.0, 1.0)
    ca(x)
    gate_h, gate_w = _hand_gates(ca, x)
    result, out = run(E.check_coordinate_gates, torch.logit(gate_h), gate_w, ca, capsys=capsys)
    assert result is False
    assert "sigmoid" in out


def test_coordinate_gates_before_any_forward(capsys):
    from course_lib.models import CoordinateAttention

    result, out = run(E.check_coordinate_gates, torch.zeros(1), torch.zeros(1), CoordinateAttention(8), capsys=capsys)
    assert result is False
    assert "call it on your input" in out


# ---------------------------------------------------------------------------------------------------- 04
@pytest.mark.parametrize(
    "attempt, expected",
    [
        (lambda x: F.batch_norm(x, None, None, training=True), "BatchNorm"),
        (lambda x: F.layer_norm(x, x.shape[1:]), "LayerNorm"),
        (lambda x: (x - x.mean((2, 3), keepdim=True)) / x.std((2, 3), keepdim=True), "unbiased"),
        (lambda x: x - x.mean((2, 3), keepdim=True), "did not divide"),
        (lambda x: x / x.std((2, 3), keepdim=True, unbiased=False), "did not subtract"),
        (lambda x: x.mean((2, 3)), "keeps the shape"),
        (lambda x: x * 2, "mean 0 and std 1"),
    ],
)
def test_instance_norm_diagnoses(attempt, expected, capsys):
    result, out = run(E.check_instance_norm, attempt, capsys=capsys)
    assert result is False
    assert expected in out


def test_instance_norm_solution_equals_the_layer_used_in_feb():
    x = torch.randn(2, 5, 7, 9) * 3 + 1
    assert torch.allclose(S.instance_norm(x), torch.nn.InstanceNorm2d(5)(x), atol=1e-5)


# ---------------------------------------------------------------------------------------------------- 05
def _crop_pyramid(t, s):
    return [t[..., : t.shape[-2] // 2 ** (s - 1 - k), : t.shape[-1] // 2 ** (s - 1 - k)] for k in range(s)]


@pytest.mark.parametrize(
    "attempt, expected",
    [
        (lambda t, s: S.scale_targets(t, s)[::-1], "coarsest first"),
        (_crop_pyramid, "top-left corner"),
        (lambda t, s: S.scale_targets(t, s)[1:], "expected 3 targets"),
        (lambda t, s: [F.interpolate(t, scale_factor=1 / 3 ** (s - 1 - k)) for k in range(s)], "H / 2**k"),
        (lambda t, s: [F.interpolate(t, scale_factor=1 / 2 ** (s - 1 - k), mode="nearest") for k in range(s)],
         "nearest"),
        (lambda t, s: S.scale_targets(t, s)[:-1] + [t.flip(-1)], "full-size target itself"),
        (lambda t, s: S.scale_targets(t.flip(-1), s)[:-1] + [t], "differs from the resized image"),
        (lambda t, s: torch.stack([t]), "list of tensors"),
    ],
)
def test_scale_targets_diagnoses(attempt, expected, capsys):
    result, out = run(E.check_scale_targets, attempt, capsys=capsys)
    assert result is False
    assert expected in out


def test_scale_targets_solution_matches_the_loss_resizing():
    from course_lib.losses import resize_target

    t = torch.rand(1, 3, 32, 32) * 2 - 1
    coarse = S.scale_targets(t, 3)[0]
    assert torch.allclose(coarse, resize_target(t, (8, 8)))


def test_scale_targets_accepts_bilinear_antialiased_resizing(capsys):
    def attempt(t, s):
        h, w = t.shape[-2:]
        return [F.interpolate(t, size=(h // 2 ** (s - 1 - k), w // 2 ** (s - 1 - k)), mode="bilinear",
                              antialias=True) if k < s - 1 else t for k in range(s)]

    assert run(E.check_scale_targets, attempt, capsys=capsys)[0] is True


# ---------------------------------------------------------------------------------------------------- 06
@pytest.mark.parametrize(
    "attempt, expected",
    [
        (lambda a, b: 10 * np.log10(255 ** 2 / np.mean((a - b) ** 2)), "wraps around"),
        (lambda a, b: 10 * np.log10(1 / np.mean((a.astype(float) - b) ** 2)), "peak value of 1"),
        (lambda a, b: 10 * np.log(255 ** 2 / np.mean((a.astype(float) - b) ** 2)), "natural log"),
        (lambda a, b: 20 * np.log10(255 / np.mean((a.astype(float) - b) ** 2)), "RMSE"),
        (lambda a, b: np.mean((a.astype(float) - b) ** 2), "returned the MSE"),
        (lambda a, b: 10 * np.log10(255 ** 2 / (np.mean((a.astype(float) - b) ** 2) + 1e-3)), "infinite"),
    ],
)
def test_psnr_diagnoses(attempt, expected, capsys):
    with np.errstate(divide="ignore"):
        result, out = run(E.check_psnr, attempt, capsys=capsys)
    assert result is False
    assert expected in out


def test_psnr_solution_matches_the_metric():
    from course_lib.metrics import psnr

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    b = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    assert S.psnr(a, b) == pytest.approx(psnr(a, b), rel=1e-6)


@pytest.mark.parametrize(
    "attempt, expected",
    [
        (lambda p, t: 0.84 * (1 - _ssim(p, t)) + 0.16 * (p - t).abs().mean(), "map to [0, 1] first"),
        (lambda p, t: 0.16 * (1 - _ssim(p, t)) + 0.84 * (p - t).abs().mean() / 2, "alpha weights the SSIM term"),
        (lambda p, t: 0.84 * _ssim(p, t) + 0.16 * (p - t).abs().mean() / 2, "use 1 - SSIM"),
        (lambda p, t: 0.84 * (1 - _ssim(p, t)) + 0.16 * ((p - t) / 2).pow(2).mean(), "L2"),
        (lambda p, t: float(S.mix_loss(p, t)), "return a tensor"),
        (lambda p, t: (0.84 * (1 - _ssim(p, t)) + 0.16 * (p - t).abs().mean() / 2).detach(), "no gradient"),
        (lambda p, t: ((p - t) / 2).abs().mean(dim=(1, 2, 3)), "one number"),
    ],
)
def test_mix_loss_diagnoses(attempt, expected, capsys):
    result, out = run(E.check_mix_loss, attempt, capsys=capsys)
    assert result is False
    assert expected in out


def _ssim(p, t):
    from course_lib.losses import ssim

    return ssim(p, t)


def test_mix_loss_solution_equals_the_course_loss():
    from course_lib.losses import mix_loss

    p, t = torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 2 - 1
    assert torch.allclose(S.mix_loss(p, t), mix_loss(p, t), atol=1e-6)


def test_coordinate_gates_reports_a_wrong_step(capsys):
    from course_lib.models import CoordinateAttention

    torch.manual_seed(0)
    x = torch.randn(1, 8, 12, 20)
    ca = CoordinateAttention(8, reduction=4)
    for p in ca.parameters():
        torch.nn.init.normal_(p, 0.0, 1.0)
    ca(x)
    h, w = x.shape[-2:]
    z = torch.cat([x.mean(3, keepdim=True), x.mean(2, keepdim=True).transpose(2, 3)], dim=2)
    y_h, y_w = torch.split(ca.shared(z), [h, w], dim=2)  # the non-linearity is missing
    result, out = run(E.check_coordinate_gates, torch.sigmoid(ca.conv_h(y_h)),
                      torch.sigmoid(ca.conv_w(y_w.transpose(2, 3))), ca, capsys=capsys)
    assert result is False
    assert "differs from the module's" in out and "ca.act" in out
