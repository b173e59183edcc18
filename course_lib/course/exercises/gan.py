"""Checks of the GAN exercises: the PatchGAN discriminator's LSGAN loss of stage 1 (notebook 07, Eq. (1)) and
both sides of the feature GAN term L_GAN^feat of fine-tuning (09, Eq. (4)). Their reference is the training
stages' own ``course_lib.losses.discriminator_loss``."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ...losses import discriminator_loss
from ._report import _call, _checked, _fail, _ok, _scalar, _v
from ._report import _close as _close_to

__all__ = ["check_lsgan_discriminator_loss", "check_feature_gan_losses"]


def _close(a: float, b: float, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """:func:`._report._close` with a tighter default tolerance: these losses have exact formulas."""
    return _close_to(a, b, rtol=rtol, atol=atol)


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
