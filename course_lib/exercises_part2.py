"""Automatic checks for the exercises of notebooks 07-11 (the training stages, evaluation, real data).

Same contract as :mod:`course_lib.exercises`: each ``check_*`` takes the student's attempt, tries it on small
probe inputs, compares it with an independent reference, prints what is right or *what* is wrong and how to fix
it, and returns ``True`` or ``False``. A check never raises on a wrong or unfinished attempt (a placeholder that
raises ``NotImplementedError`` gets guidance and ``False``), so a notebook runs top to bottom with the exercises
still open. Reference solutions: :mod:`course_lib.solutions_part2`.

| notebook | check | the student writes |
| --- | --- | --- |
| 07 | :func:`check_lsgan_discriminator_loss` | a PatchGAN discriminator's LSGAN loss, Eq. (1)'s GAN terms |
| 08 | :func:`check_pretrain_loss` | L_pp of Eq. (2): L_mix summed over the scales |
| 09 | :func:`check_feature_gan_losses` | both sides of L_GAN^feat, Eq. (4) (generator and D_G^feat) |
| 10 | :func:`check_improvement` | "better or worse than the full model?" for each metric of Table I |
| 11 | :func:`check_resize_shorter_and_crop` | EPFL's large images -> square training crops without distortion |
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F

__all__ = [
    "check_lsgan_discriminator_loss",
    "check_pretrain_loss",
    "check_feature_gan_losses",
    "check_improvement",
    "check_resize_shorter_and_crop",
    "HIGHER_IS_BETTER",
]

#: Direction of each metric of Table I: True when a larger value is better.
HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "ae": False, "lpips": False}


# --------------------------------------------------------------------------------------------------------------
# reporting (the same ✅ / ❌ lines as course_lib.exercises)
# --------------------------------------------------------------------------------------------------------------
from .exercises import _call, _checked, _fail, _Failed, _ok  # noqa: E402 - one set of reporting helpers for all checks
from .losses import discriminator_loss  # noqa: E402


def _scalar(value: Any, name: str) -> torch.Tensor:
    """The attempt's result as a 0-d tensor (keeping its graph), or a diagnosis."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            _fail(f"{name} returned a tensor of shape {tuple(value.shape)}: expected one number (a scalar loss); "
                  "average over the batch and the patch map with .mean()")
            raise _Failed
        return value.reshape(())
    if isinstance(value, (int, float)):
        _fail(f"{name} returned a Python {type(value).__name__} ({value}): return the torch tensor, so the loss "
              "can be back-propagated (don't call .item())")
        raise _Failed
    _fail(f"{name} returned a {type(value).__name__}: expected a scalar torch tensor")
    raise _Failed


def _v(x: Any) -> float:
    """A number from a tensor (detached) or a float."""
    return float(x.detach()) if isinstance(x, torch.Tensor) else float(x)


def _close(a: float, b: float, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)




# --------------------------------------------------------------------------------------------------------------
# 07: the LSGAN discriminator loss of Eq. (1)
# --------------------------------------------------------------------------------------------------------------
def _reference_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return discriminator_loss(real, fake)      # the training stages' own definition


@_checked
def check_lsgan_discriminator_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Check ``fn(scores_real, scores_fake)``: a PatchGAN's least-squares loss,
    ``0.5 * (mean((D(real) - 1)^2) + mean(D(fake)^2))`` (CycleGAN halves the discriminator's loss)."""
    name = "your discriminator loss"
    shape = (2, 1, 6, 6)  # a batch of patch maps, as PatchDiscriminator returns

    ones, zeros = torch.ones(shape), torch.zeros(shape)
    perfect = _v(_scalar(_call(fn, name, ones.clone(), zeros.clone()), name))
    if not _close(perfect, 0.0, atol=1e-6):
        hint = ("the real scores must be pulled towards 1 and the fake ones towards 0; did you swap the targets?"
                if _close(perfect, 1.0) or _close(perfect, 2.0) else
                "a least-squares loss is 0 when every real patch scores 1 and every fake patch 0")
        return _fail(f"for a perfect discriminator (real scores 1, fake scores 0) your loss is {perfect:.4g}, "
                     f"expected 0: {hint}")
    fooled = _v(_scalar(_call(fn, name, zeros.clone(), ones.clone()), name))
    if _close(fooled, 2.0):
        return _fail("for a fooled discriminator (real scores 0, fake scores 1) your loss is 2, expected 1: multiply "
                     "by 0.5 (CycleGAN halves the discriminator's loss so it learns at half the generators' rate)")
    if _close(fooled, float(ones.numel())) or _close(fooled, 2.0 * ones.numel()):
        return _fail(f"for a fooled discriminator (real scores 0, fake scores 1) your loss is {fooled:.4g}, expected "
                     f"1: you computed a sum over the patch map ({ones.numel()} scores) instead of the mean; average "
                     "with .mean() so the loss does not grow with the image size")
    if not _close(fooled, 1.0):
        return _fail(f"for a fooled discriminator (real scores 0, fake scores 1) your loss is {fooled:.4g}, expected "
                     "1 = 0.5 * (mean((0 - 1)^2) + mean(1^2))")

    g = torch.Generator().manual_seed(7)
    real = (torch.randn(shape, generator=g) * 0.7 + 0.6).requires_grad_(True)
    fake = (torch.randn(3, 1, 5, 5, generator=g) * 0.7 + 0.3).requires_grad_(True)  # another batch and map size
    got_t = _scalar(_call(fn, name, real, fake), name)
    got, want = _v(got_t), _v(_reference_d_loss(real, fake))
    if not _close(got, want):
        candidates = {
            "absolute values instead of squares: LSGAN is a *least-squares* loss, use (D - target) ** 2":
                0.5 * (_v((real - 1).abs().mean()) + _v(fake.abs().mean())),
            "a sum over the patch map instead of the mean: average with .mean() so the loss does not grow with the "
            "image size": 0.5 * (_v(((real - 1) ** 2).sum()) + _v((fake ** 2).sum())),
            "the binary cross-entropy of the original GAN: LSGAN compares the raw scores (no sigmoid) with the "
            "targets 1 and 0 by squared error":
                0.5 * (_v(F.binary_cross_entropy_with_logits(real, torch.ones_like(real)))
                       + _v(F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))),
            "one mean over real and fake scores pooled together: average each term separately (the two batches can "
            "differ in size)": 0.5 * _v(torch.cat([((real - 1) ** 2).flatten(), (fake ** 2).flatten()]).mean()),
        }
        for reason, value in candidates.items():
            if _close(got, value):
                return _fail(f"on random scores your loss is {got:.4f}, expected {want:.4f}: you computed {reason}")
        return _fail(f"on random scores your loss is {got:.4f}, expected {want:.4f} = 0.5 * (mean((D(real) - 1)^2) "
                     "+ mean(D(fake)^2))")
    if not got_t.requires_grad:
        return _fail("the value is right but it carries no gradient: keep it a torch expression (no .item(), no "
                     "numpy, no torch.no_grad()), or the discriminator cannot learn from it")
    return _ok(f"LSGAN discriminator loss correct: perfect D -> 0, fooled D -> 1, random scores -> {got:.4f}")


# --------------------------------------------------------------------------------------------------------------
# 08: L_pp, Eq. (2)
# --------------------------------------------------------------------------------------------------------------
@_checked
def check_pretrain_loss(fn: Callable[[list, torch.Tensor], torch.Tensor]) -> bool:
    """Check ``fn(predictions, target)`` = Eq. (2): ``sum_s L_mix(target at scale s, predictions[s])``, the
    target downscaled to each prediction's size by area averaging (``course_lib.losses.mix_loss``)."""
    from .losses import mix_loss, multiscale_mix_loss

    name = "your L_pp"
    g = torch.Generator().manual_seed(3)
    target = torch.rand(2, 3, 64, 64, generator=g) * 2 - 1     # SSIM needs >= 11 px: scales 16, 32, 64
    predictions = [(torch.rand(2, 3, s, s, generator=g) * 2 - 1).requires_grad_(True) for s in (16, 32, 64)]
    got_t = _scalar(_call(fn, name, predictions, target), name)
    got = _v(got_t)
    want = _v(multiscale_mix_loss(predictions, target))
    if not _close(got, want, rtol=1e-5):
        terms = [_v(mix_loss(p, F.interpolate(target, size=p.shape[-2:], mode="area"))) for p in predictions]
        bilinear = sum(_v(mix_loss(p, F.interpolate(target, size=p.shape[-2:], mode="bilinear",
                                                       align_corners=False))) for p in predictions)
        if _close(got, terms[-1], rtol=1e-5):
            return _fail(f"your loss is {got:.4f}, the finest scale's term alone; Eq. (2) sums L_mix over all "
                         f"{len(predictions)} scales (expected {want:.4f})")
        if _close(got, want / len(predictions), rtol=1e-5):
            return _fail(f"your loss is {got:.4f} = the mean over the scales; Eq. (2) *sums* them "
                         f"(expected {want:.4f})")
        if _close(got, bilinear, rtol=1e-5):
            return _fail(f"your loss is {got:.4f}, expected {want:.4f}: you resized the target bilinearly; downscale "
                         "it by area averaging, F.interpolate(target, size=..., mode='area'), which averages every "
                         "pixel it covers")
        if _close(got, terms[0] + terms[1], rtol=1e-5):
            return _fail(f"your loss is {got:.4f}: the finest scale is missing (expected {want:.4f})")
        return _fail(f"your loss is {got:.4f}, expected {want:.4f} = " + " + ".join(f"{t:.4f}" for t in terms)
                     + " (L_mix of each scale, coarsest first)")
    if not got_t.requires_grad:
        return _fail("the value is right but it carries no gradient: keep it a torch expression")
    scales = _call(fn, name, predictions[-1:], target)
    one = _v(_scalar(scales, name))
    if not _close(one, _v(mix_loss(predictions[-1], target)), rtol=1e-5):
        return _fail("with a single full-size prediction your loss should equal mix_loss(prediction, target): "
                     "don't assume there are exactly three scales, loop over the list")
    return _ok(f"L_pp correct: {got:.4f} = the sum of L_mix over {len(predictions)} scales, target resized by area")


# --------------------------------------------------------------------------------------------------------------
# 09: both sides of L_GAN^feat, Eq. (4)
# --------------------------------------------------------------------------------------------------------------
class _ProbeCritic(torch.nn.Module):
    """A tiny fixed critic: a 1x1 convolution of the input (any channel count given at construction)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = torch.nn.Conv2d(channels, 1, 1)
        with torch.no_grad():
            g = torch.Generator().manual_seed(11)
            self.conv.weight.copy_(torch.randn(self.conv.weight.shape, generator=g) * 0.5)
            self.conv.bias.fill_(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


@_checked
def check_feature_gan_losses(fn: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], tuple]) -> bool:
    """Check ``fn(d_feat, fake, real) -> (loss_generator, loss_discriminator)``, Eq. (4) in LSGAN form:

    * generator side (F_G and G_N2G want their output judged real): ``mean((D(fake) - 1)^2)``;
    * D_G^feat side: ``0.5 * (mean((D(real) - 1)^2) + mean(D(fake.detach())^2))``, the fake *detached* so the
      discriminator's loss does not train the generators.
    """
    name = "your feature GAN losses"
    g = torch.Generator().manual_seed(5)
    d_feat = _ProbeCritic(9)
    fake = (torch.randn(2, 9, 8, 8, generator=g) * 0.5).requires_grad_(True)
    real = torch.randn(2, 9, 8, 8, generator=g) * 0.5
    out = _call(fn, name, d_feat, fake, real)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return _fail(f"{name} returned {type(out).__name__}: expected a pair (loss_generator, loss_discriminator)")
    loss_g, loss_d = _scalar(out[0], "your generator loss"), _scalar(out[1], "your discriminator loss")
    with torch.no_grad():
        s_fake, s_real = d_feat(fake), d_feat(real)
        want_g = float(((s_fake - 1) ** 2).mean())
        want_d = float(discriminator_loss(s_real, s_fake))
    if _close(_v(loss_g), want_d) and _close(_v(loss_d), want_g):
        return _fail("the two losses are swapped: return (loss_generator, loss_discriminator), in that order")
    if not _close(_v(loss_g), want_g):
        if _close(_v(loss_g), float((s_fake ** 2).mean())):
            return _fail(f"your generator loss is {_v(loss_g):.4f}, expected {want_g:.4f}: the generators want "
                         "D_G^feat to call their output *real*, so the fake scores' target is 1, not 0")
        return _fail(f"your generator loss is {_v(loss_g):.4f}, expected {want_g:.4f} = mean((D(fake) - 1)^2)")
    if not _close(_v(loss_d), want_d):
        if _close(_v(loss_d), 2 * want_d):
            return _fail(f"your discriminator loss is {_v(loss_d):.4f}, expected {want_d:.4f}: multiply by 0.5")
        return _fail(f"your discriminator loss is {_v(loss_d):.4f}, expected {want_d:.4f} = "
                     "0.5 * (mean((D(real) - 1)^2) + mean(D(fake)^2))")
    if not loss_g.requires_grad:
        return _fail("your generator loss carries no gradient: it must flow back into the fake features")
    fake.grad = None
    d_feat.zero_grad()
    loss_d.backward(retain_graph=True)
    if fake.grad is not None and float(fake.grad.abs().sum()) > 0:
        return _fail("your discriminator loss sends gradients into the fake features, i.e. into F_G and G_N2G: "
                     "use fake.detach() in the discriminator's loss, or the discriminator's update would also "
                     "train the generators to be *recognised* as fake")
    if d_feat.conv.weight.grad is None or float(d_feat.conv.weight.grad.abs().sum()) == 0:
        return _fail("your discriminator loss gives D_G^feat no gradient: compute it from d_feat(real) and "
                     "d_feat(fake.detach())")
    fake.grad = None
    loss_g.backward()
    if fake.grad is None or float(fake.grad.abs().sum()) == 0:
        return _fail("your generator loss gives the fake features no gradient: don't detach them on the "
                     "generator side")
    return _ok(f"L_GAN^feat correct: generator {want_g:.4f}, D_G^feat {want_d:.4f}, fake detached on D's side")


# --------------------------------------------------------------------------------------------------------------
# 10: reading a Table-I row against the full model
# --------------------------------------------------------------------------------------------------------------
@_checked
def check_improvement(fn: Callable[[str, float, float], float]) -> bool:
    """Check ``fn(metric, value, reference) -> float``: how much better ``value`` is than ``reference`` for a
    metric of Table I ("psnr", "ssim", "ae", "lpips"), positive = better. PSNR and SSIM: higher is better
    (``value - reference``); AE and LPIPS are errors, lower is better (``reference - value``)."""
    name = "your improvement"
    cases = [("psnr", 22.14, 19.59), ("ssim", 0.63, 0.59), ("ae", 3.68, 4.33), ("lpips", 0.253, 0.295),
             ("psnr", 17.39, 17.50), ("ae", 5.61, 4.69)]
    for metric, value, reference in cases:
        got = _call(fn, name, metric, value, reference)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return _fail(f"{name}({metric!r}, {value}, {reference}) returned {got!r}: expected a number")
        sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
        want = sign * (value - reference)
        if _close(got, want, rtol=1e-6, atol=1e-9):
            continue
        if want < 0 and _close(got, abs(want), rtol=1e-6, atol=1e-9):
            return _fail(f"{name}({metric!r}, {value}, {reference}) = {got:+.4g}, expected {want:+.4g}: an absolute "
                         "value loses the direction; positive must mean better")
        if _close(got, -want, rtol=1e-6, atol=1e-9):
            direction = "higher" if HIGHER_IS_BETTER[metric] else "lower"
            return _fail(f"{name}({metric!r}, {value}, {reference}) = {got:+.4g}, expected {want:+.4g}: the sign is "
                         f"wrong for {metric.upper()}, where {direction} is better (Table I's arrows: PSNR ↑, SSIM ↑, "
                         "AE ↓, LPIPS ↓)")
        return _fail(f"{name}({metric!r}, {value}, {reference}) = {got:+.4g}, expected {want:+.4g} (a difference, "
                     "not a ratio)")
    for bad in ("PSNR ", "accuracy"):
        try:
            fn(bad, 1.0, 0.0)
        except (ValueError, KeyError):
            continue
        except Exception as error:  # noqa: BLE001
            return _fail(f"{name}({bad!r}, ...) raised {type(error).__name__}; expected ValueError or KeyError for an "
                         "unknown metric name")
        return _fail(f"{name}({bad!r}, 1.0, 0.0) returned a value: an unknown metric name should raise ValueError "
                     "(a typo would otherwise silently count as 'higher is better')")
    return _ok("improvement correct for PSNR/SSIM (higher is better) and AE/LPIPS (lower is better)")


# --------------------------------------------------------------------------------------------------------------
# 11: square crops of EPFL's large images
# --------------------------------------------------------------------------------------------------------------
def _ramp(height: int, width: int) -> torch.Tensor:
    """3 x H x W probe: channel 0 rises left to right, channel 1 top to bottom, channel 2 constant 0.5."""
    xs = torch.linspace(-1, 1, width).view(1, width).expand(height, width)
    ys = torch.linspace(-1, 1, height).view(height, 1).expand(height, width)
    return torch.stack([xs, ys, torch.full((height, width), 0.5)])


@_checked
def check_resize_shorter_and_crop(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> bool:
    """Check ``fn(image [C, H, W], size) -> [C, size, size]``: scale so the *shorter* side is ``size`` (keeping
    the aspect ratio), then cut the central ``size`` x ``size`` square (as ``course_lib.data.Resize`` does)."""
    name = "your resize_shorter_and_crop"
    size = 16
    for height, width in ((32, 64), (48, 24)):
        image = _ramp(height, width)
        out = _call(fn, name, image.clone(), size)
        if not isinstance(out, torch.Tensor):
            return _fail(f"{name} returned a {type(out).__name__}: expected a torch tensor")
        if tuple(out.shape) != (3, size, size):
            return _fail(f"for a 3x{height}x{width} image and size {size} your output has shape {tuple(out.shape)}, "
                         f"expected (3, {size}, {size})")
        out = out.detach().float()
        # where the probe's ramps end up tells what happened to the geometry
        x_span = float(out[0, :, -1].mean() - out[0, :, 0].mean())
        y_span = float(out[1, -1, :].mean() - out[1, 0, :].mean())
        x_mid, y_mid = float(out[0].mean()), float(out[1].mean())
        side = min(height, width)
        want_x, want_y = 2 * side / width, 2 * side / height   # the central square's share of each ramp
        tol = 0.25
        if abs(x_span - 2) < tol and abs(y_span - 2) < tol and (height != width):
            return _fail(f"for a {height}x{width} image your output still spans the whole image in both directions: "
                         "you squashed it to a square, which distorts the scene; scale the shorter side to "
                         f"{size} and crop the longer one")
        if abs(x_span - want_x) > tol or abs(y_span - want_y) > tol:
            crop_only_x, crop_only_y = 2 * size / width, 2 * size / height
            if abs(x_span - crop_only_x) < tol and abs(y_span - crop_only_y) < tol:
                return _fail(f"for a {height}x{width} image you cropped {size}x{size} pixels without scaling first: "
                             "that keeps only a small piece of the scene; scale so the shorter side is "
                             f"{size} (F.interpolate), then crop")
            return _fail(f"for a {height}x{width} image your output covers {x_span / 2:.0%} of the width and "
                         f"{y_span / 2:.0%} of the height, expected {want_x / 2:.0%} and {want_y / 2:.0%}: scale "
                         "so the shorter side is exactly `size`, keeping the aspect ratio")
        if abs(x_mid) > 0.1 or abs(y_mid) > 0.1:
            return _fail(f"for a {height}x{width} image your crop is off-centre (centre at x = {x_mid:+.2f}, "
                         f"y = {y_mid:+.2f} in [-1, 1] image coordinates): take the *central* square, starting at "
                         "(longer - size) // 2")
    if not torch.allclose(out[2], torch.full_like(out[2], 0.5), atol=0.02):
        return _fail("a constant channel came out changed: resample each channel the same way (values must stay "
                     "in [-1, 1], no normalisation)")
    return _ok("resize_shorter_and_crop correct: shorter side scaled to size, aspect kept, central square")
