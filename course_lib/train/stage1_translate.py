"""Stage 1, ``translate``: the domain translation module, a CycleGAN between NIR and grayscale (Eq. (1)).

    L_tran = L_GAN^img(X_N, X_G, D_N^img, G_G2N) + L_GAN^img(X_N, X_G, D_G^img, G_N2G)
             + lambda_1 L_cyc + lambda_2 L_idt                                         (1)

G_N2G and G_G2N are MPFNets with one input and one output channel; D_N^img and D_G^img are 70 x 70 PatchGANs.
Choices the paper leaves open (DESIGN.md sections 3-4):

* The generators are multi-scale, but CycleGAN's terms need one image: the GAN, cycle and identity terms all use
  the **finest** output (``g(x)[-1]``); the coarser outputs get no loss in this stage (they are supervised in
  stage 3, where F_G sees G_N2G's finest output).
* GAN terms are least-squares (LSGAN, as CycleGAN); each discriminator loss is halved, as in CycleGAN.
* Cycle and identity terms are L1 and summed over both directions; lambda_1 = lambda_2 = 1 (paper).
* Unpaired grays: the real gray batch is ``to_gray`` of the RGB images of an independently shuffled stream over
  the training set (stream 1), so it is generally not the gray of the NIR images in the same batch.
* Optional paired term (``weights.lambda_paired``, default 0): L1 between G_N2G(x_n) and the gray of the pair's
  own RGB image, for data that has pairs (ours does).
* An image pool of 50 past fakes per discriminator (CycleGAN).
* Optional supervised warm-up (``Profile.translate_warmup`` steps, default 0 = the paper): the stage's first
  steps train G_N2G alone on NIR -> the gray of the pair's own RGB image with L_mix at every scale (one generator
  pass per step, the same Adam optimizer), so that a short CPU budget starts Eq. (1) from a translator that already
  makes a gray image (the `cpu` profile; see benchmarks/results/vcip_cpu). Warm-up rows of ``losses.csv`` fill the
  ``warmup`` column, CycleGAN rows the others.
"""

from __future__ import annotations

import itertools
import os
from typing import Any, Callable

import torch

from ..data import to_gray
from ..losses import multiscale_mix_loss
from .configs import TranslateConfig, check_config, default_config, mpfnet_spec, patch_disc_spec
from .gan import image_discriminator_loss, translator_objective
from .loop import StageResult, StageRun, autocast, make_scaler, resolve_device
from .pool import ImagePool, set_requires_grad
from .profiles import Profile, get_profile

__all__ = ["translate"]


def translate(profile: Profile | str | None = None, out_dir: str | os.PathLike = "runs", data: Any = None,
              config: TranslateConfig | None = None, *, device: str | torch.device | None = None,
              data_kind: str = "auto", callback: Callable[[int, dict], None] | None = None) -> StageResult:
    """Train G_N2G / G_G2N with Eq. (1) for ``profile.translate_steps`` steps (resuming if a checkpoint exists).

    Args:
        profile: a Profile or its name (None: see ``get_profile``).
        out_dir: run folder; this stage writes ``out_dir/translate/{checkpoint.pt, losses.csv, samples/}``.
        data: None (spectral scenes), a dataset folder, or a dataset of item dicts.
        config: loss weights, pool size, architecture switches, seed.
        device: default CUDA if available.
        data_kind: folder layout for ``open_dataset`` ("auto", "paired", "vcip2020", "epfl").
        callback: ``callback(step, losses)`` after each step.
    Returns:
        StageResult with models ``g_n2g``, ``g_g2n``, ``d_n``, ``d_g`` (eval mode).
    """
    profile = get_profile(profile, verbose=not isinstance(profile, Profile))
    config = config if config is not None else default_config("translate", profile)
    check_config(config)
    device = resolve_device(device)
    # finished: the translators and the image discriminators, which fine-tuning continues (Eq. (5)'s L_tran)
    # on Profile.translate_image_size crops, translate_batch_size at a time, when set
    run = StageRun("translate", profile.stage_profile("translate"), out_dir, config, profile.translate_steps, device,
                   data, data_kind, callback, keep=("g_n2g", "g_g2n", "d_n", "d_g"))

    g_n2g = run.build("g_n2g", mpfnet_spec(1, 1, profile, config, translator=True))  # NIR -> gray
    g_g2n = run.build("g_g2n", mpfnet_spec(1, 1, profile, config, translator=True))  # gray -> NIR
    d_n = run.build("d_n", patch_disc_spec(1, profile, config))     # D_N^img: real NIR or G_G2N's fake?
    d_g = run.build("d_g", patch_disc_spec(1, profile, config))     # D_G^img: real gray or G_N2G's fake?
    lr = profile.stage_lr("translate")
    opt_g = torch.optim.Adam(itertools.chain(g_n2g.parameters(), g_g2n.parameters()), lr=lr,
                             betas=tuple(config.betas))
    opt_d = torch.optim.Adam(itertools.chain(d_n.parameters(), d_g.parameters()), lr=lr, betas=tuple(config.betas))
    scaler = make_scaler(profile, device)
    pool_n, pool_g = ImagePool(config.pool_size, seed=config.seed), ImagePool(config.pool_size, seed=config.seed + 1)
    run.track(models={"g_n2g": g_n2g, "g_g2n": g_g2n, "d_n": d_n, "d_g": d_g},
              optimizers={"g": opt_g, "d": opt_d}, scaler=scaler, pools={"n": pool_n, "g": pool_g},
              lr=lr)   # a stage resumed or continued at another Profile.translate_lr takes the new rate
    run.resume()
    w, amp = config.weights, profile.amp
    fixed = run.pair_batches(0).fixed(4, device)
    warmup = min(profile.translate_warmup, profile.translate_steps)

    def samples() -> dict:
        gray = to_gray(fixed["rgb"])
        return {"NIR": fixed["nir"], "G_N2G(NIR)": g_n2g(fixed["nir"])[-1], "gray (RGB)": gray,
                "G_G2N(gray)": g_g2n(gray)[-1]}

    with run:
        for step in run.steps():
            pair = run.batch(step, stream=0)
            real_n = pair["nir"]
            if step <= warmup:  # supervised warm-up of G_N2G on the pair's own gray
                with autocast(device, amp):
                    predictions = g_n2g(real_n)
                loss = multiscale_mix_loss([p.float() for p in predictions], to_gray(pair["rgb"]),
                                           alpha=config.alpha)
                opt_g.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt_g)
                scaler.update()
                run.end_step(step, {"warmup": loss}, samples=samples)
                continue
            real_g = to_gray(run.batch(step, stream=1)["rgb"])  # unpaired grays

            # --- generators: fool both discriminators, cycle back, leave own-domain images alone ---------------
            set_requires_grad([d_n, d_g], False)
            tran = translator_objective(g_n2g, g_g2n, d_n, d_g, real_n, real_g, w, pair["rgb"],
                                        autocast(device, amp))
            fake_g, fake_n, loss_g = tran["fake_g"], tran["fake_n"], tran["total"]
            losses = {k: tran[k] for k in ("gan", "cycle", "identity", "paired") if k in tran}
            opt_g.zero_grad(set_to_none=True)
            scaler.scale(loss_g).backward()
            scaler.step(opt_g)

            # --- discriminators: real vs. fakes drawn from the image pools --------------------------------------
            set_requires_grad([d_n, d_g], True)
            loss_d_g = image_discriminator_loss(d_g, real_g, pool_g.query(fake_g), autocast(device, amp))
            loss_d_n = image_discriminator_loss(d_n, real_n, pool_n.query(fake_n), autocast(device, amp))
            opt_d.zero_grad(set_to_none=True)
            scaler.scale(loss_d_g + loss_d_n).backward()
            scaler.step(opt_d)
            scaler.update()

            losses.update(generator=loss_g, d_g=loss_d_g, d_n=loss_d_n)
            run.end_step(step, losses, samples=samples)
    return run.result()
