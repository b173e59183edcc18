"""The CycleGAN bookkeeping of Eq. (1), written once for stage 1 (translate) and stage 3 (finetune).

:func:`translator_objective` runs the six generator passes of a CycleGAN step and returns the generator side of
L_tran; the discriminators' side is :func:`course_lib.losses.discriminator_loss` on real images and pooled fakes
(:func:`image_discriminator_loss`).

    L_tran = L_GAN(G_N2G, D_G) + L_GAN(G_G2N, D_N) + lambda_cyc L_cyc + lambda_idt L_idt  [+ lambda_paired L_paired]

* GAN terms (LSGAN, generator side): both translations should be judged real;
* L_cyc: NIR -> gray -> NIR and gray -> NIR -> gray come back (L1);
* L_idt: each generator leaves an image of its own output domain unchanged (L1);
* L_paired (our addition, off by default): L1 between G_N2G(NIR) and the gray of the pair's own RGB image.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Any

import torch
from torch import nn

from ..data import to_gray
from ..losses import LossWeights, cycle_loss, discriminator_loss, identity_loss, lsgan_loss

__all__ = ["translator_objective", "image_discriminator_loss", "frozen_norm_statistics"]


def translator_objective(g_n2g: nn.Module, g_g2n: nn.Module, d_n: nn.Module, d_g: nn.Module,
                         real_n: torch.Tensor, real_g: torch.Tensor, weights: LossWeights,
                         paired_rgb: torch.Tensor | None = None, precision: Any = None) -> dict[str, torch.Tensor]:
    """The generator side of L_tran (Eq. (1)) for one batch.

    Args:
        g_n2g, g_g2n: the translators (MPFNets; their finest-scale output is used).
        d_n, d_g: the image discriminators (their parameters should not require grad during this call).
        real_n: NIR batch; real_g: a batch of (unpaired) grays.
        weights: ``lambda_cyc``, ``lambda_idt``, ``lambda_paired``.
        paired_rgb: the RGB images paired with ``real_n`` (needed when ``weights.lambda_paired > 0``).
        precision: a context manager for the network passes (autocast); losses are computed in float32.
    Returns:
        ``{"fake_g", "fake_n"}`` (the translations, for the pools and for F_G), ``"gan"``, ``"cycle"``,
        ``"identity"``, ``"paired"`` (only when weighted) and ``"total"`` (the weighted sum).
    """
    with precision if precision is not None else nullcontext():
        fake_g = g_n2g(real_n)[-1]      # NIR -> gray, finest scale
        fake_n = g_g2n(real_g)[-1]      # gray -> NIR
        rec_n = g_g2n(fake_g)[-1]       # NIR -> gray -> NIR
        rec_g = g_n2g(fake_n)[-1]       # gray -> NIR -> gray
        idt_g = g_n2g(real_g)[-1]       # G_N2G should leave a gray image gray
        idt_n = g_g2n(real_n)[-1]
        score_fake_g, score_fake_n = d_g(fake_g), d_n(fake_n)
    out = {"fake_g": fake_g, "fake_n": fake_n}
    out["gan"] = lsgan_loss(score_fake_g.float(), True) + lsgan_loss(score_fake_n.float(), True)
    out["cycle"] = cycle_loss(rec_n.float(), real_n) + cycle_loss(rec_g.float(), real_g)
    out["identity"] = identity_loss(idt_g.float(), real_g) + identity_loss(idt_n.float(), real_n)
    total = out["gan"] + weights.lambda_cyc * out["cycle"] + weights.lambda_idt * out["identity"]
    if weights.lambda_paired > 0:
        if paired_rgb is None:
            raise ValueError("translator_objective: lambda_paired > 0 needs paired_rgb (the NIR images' RGB pairs)")
        out["paired"] = (fake_g.float() - to_gray(paired_rgb)).abs().mean()
        total = total + weights.lambda_paired * out["paired"]
    out["total"] = total
    return out


def image_discriminator_loss(d: nn.Module, real: torch.Tensor, fake: torch.Tensor, precision: Any = None
                             ) -> torch.Tensor:
    """LSGAN loss of one image discriminator on a real batch and a (pooled, detached) fake batch."""
    with precision if precision is not None else nullcontext():
        score_real, score_fake = d(real), d(fake)
    return discriminator_loss(score_real, score_fake)


@contextmanager
def frozen_norm_statistics(module: nn.Module):
    """Within the block, batch-norm layers of ``module`` normalise with the batch's statistics as in training but
    leave their running statistics untouched (momentum 0). Used for F_G's pass on the *real* grays that D_G^feat
    compares against: those images are not F_G's training input and must not move its running averages."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training]
    saved = [(m.momentum, m.num_batches_tracked.clone() if m.num_batches_tracked is not None else None)
             for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, (momentum, tracked) in zip(norms, saved):
            m.momentum = momentum
            if tracked is not None:
                m.num_batches_tracked.copy_(tracked)
