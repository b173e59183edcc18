"""Checks of the loss exercises: L_mix (notebook 06, Zhao et al., Sec. II.B) and L_pp of Eq. (2), L_mix summed
over MPFNet's scales (08)."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ._report import _call, _checked, _close, _fail, _ok, _scalar, _v

__all__ = ["check_mix_loss", "check_pretrain_loss"]


# --------------------------------------------------------------------------------------------------------------
# 06: L_mix (Section II.B)
# --------------------------------------------------------------------------------------------------------------
@_checked
def check_mix_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], ssim_fn: Callable | None = None,
                   alpha: float = 0.84) -> bool:
    """Check ``fn(prediction, target) -> scalar`` on [-1, 1] tensors: L_mix (Zhao et al. [26]) =
    ``alpha * (1 - SSIM) + (1 - alpha) * L1``, alpha = 0.84, with both terms computed on images mapped to [0, 1].

    ``ssim_fn`` is the SSIM the student was told to use (``course_lib.losses.ssim`` by default, taking [-1, 1]
    tensors); the reference is built from it, so the check tests the combination, not the SSIM.
    """
    if ssim_fn is None:
        from course_lib.losses import ssim as ssim_fn  # imported here: only this check needs the losses module
    g = torch.Generator().manual_seed(2)
    target = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    prediction = (target + 0.3 * torch.randn(2, 3, 32, 32, generator=g)).clamp(-1, 1)
    got_raw = _call(fn, "your mix_loss", prediction.clone(), target.clone())
    if not isinstance(got_raw, torch.Tensor):
        return _fail(f"your mix_loss returned a {type(got_raw).__name__}: return a tensor so it can be backpropagated")
    if got_raw.numel() != 1:
        return _fail(f"your mix_loss returned shape {tuple(got_raw.shape)}: a loss is one number (take the mean)")
    got = float(got_raw)
    s = float(ssim_fn(prediction, target))
    l1 = float((prediction - target).abs().mean())  # in [-1, 1]; on [0, 1] images it is half of this
    expected = alpha * (1 - s) + (1 - alpha) * l1 / 2
    if _close(got, expected, rtol=1e-3):
        probe = prediction.clone().requires_grad_(True)
        value = _call(fn, "your mix_loss", probe, target)
        if not isinstance(value, torch.Tensor) or not value.requires_grad:
            return _fail("right value, but no gradient flows back to the prediction: do not convert to numpy or "
                         "float inside the loss, and do not wrap it in torch.no_grad()")
        return _ok(f"L_mix = {alpha} (1 - SSIM) + {1 - alpha:.2f} L1 = {got:.4f} on the probe pair")
    candidates = [
        ((1 - alpha) * (1 - s) + alpha * l1 / 2,
         f"alpha weights the SSIM term: {alpha} (1 - SSIM) + {1 - alpha:.2f} L1, not the other way round"),
        (alpha * (1 - s) + (1 - alpha) * l1, "your L1 is measured on [-1, 1] images: map to [0, 1] first "
                                             "((x + 1) / 2), which halves it"),
        (alpha * s + (1 - alpha) * l1 / 2, "use 1 - SSIM: SSIM is a similarity (1 = identical), the loss must shrink "
                                           "as images get alike"),
        (alpha * (1 + s) + (1 - alpha) * l1 / 2, "use 1 - SSIM, not 1 + SSIM"),
        (1 - s, "you returned only the SSIM term: add (1 - alpha) * L1"),
        (l1 / 2, "you returned only the L1 term: add alpha * (1 - SSIM)"),
        (alpha * (1 - s) + (1 - alpha) * float((((prediction - target) / 2) ** 2).mean()),
         "that is the squared error (L2): L_mix uses L1, the mean absolute difference"),
    ]
    for value, message in candidates:
        if value is not None and _close(got, value, rtol=1e-3):
            return _fail(message)
    return _fail(f"your mix_loss gives {got:.4g}; {alpha} (1 - SSIM) + {1 - alpha:.2f} L1 (on [0, 1] images) = "
                 f"{expected:.4g}")


# --------------------------------------------------------------------------------------------------------------
# 08: L_pp, Eq. (2)
# --------------------------------------------------------------------------------------------------------------
@_checked
def check_pretrain_loss(fn: Callable[[list, torch.Tensor], torch.Tensor]) -> bool:
    """Check ``fn(predictions, target)`` = Eq. (2): ``sum_s L_mix(target at scale s, predictions[s])``, the
    target downscaled to each prediction's size by area averaging (``course_lib.losses.mix_loss``)."""
    from ...losses import mix_loss, multiscale_mix_loss

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
