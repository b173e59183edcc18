"""Stage 2, ``pretrain``: the colorization module F_G learns gray -> RGB on real grayscale images (Eq. (2)).

    L_pp = sum_{s=1}^{3} L_mix(Y_G^s, F_G^s(X_G))                                       (2)

F_G is an MPFNet with one input and three output channels. Its inputs are the grays of the training RGB images,
``x_g = to_gray(rgb)`` (BT.601 luminance), its targets the RGB images themselves, compared at each of F_G's
scales with the target downscaled to that scale (``course_lib.losses.multiscale_mix_loss``). No NIR is involved:
this stage learns colour from luminance only, the easier half of the problem the paper splits in two.

With ``PretrainConfig.colour_bins`` > 0 (not in the paper), F_G is a :class:`~course_lib.models.BinnedMPFNet`:
bins fitted on the training photos, L_mix on its regression outputs plus the bins' cross-entropy
(``course_lib.train.bins``), its finest output the input gray coloured by the bins' annealed mean.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import torch

from ..data import to_gray
from .bins import bin_weights, build_colouriser, rgb_objective
from .configs import PretrainConfig, check_config, default_config
from .loop import StageResult, StageRun, autocast, make_scaler, resolve_device
from .profiles import Profile, get_profile

__all__ = ["pretrain"]


def pretrain(profile: Profile | str | None = None, out_dir: str | os.PathLike = "runs", data: Any = None,
             config: PretrainConfig | None = None, *, device: str | torch.device | None = None,
             data_kind: str = "auto", callback: Callable[[int, dict], None] | None = None) -> StageResult:
    """Train F_G on (to_gray(rgb), rgb) with Eq. (2) for ``profile.pretrain_steps`` steps (resumable).

    Arguments as for :func:`course_lib.train.translate`; files go to ``out_dir/pretrain/``.
    Returns a StageResult with the model ``f_g`` (eval mode).
    """
    profile = get_profile(profile, verbose=not isinstance(profile, Profile))
    config = config if config is not None else default_config("pretrain", profile)
    check_config(config)
    device = resolve_device(device)
    run = StageRun("pretrain", profile.stage_profile("pretrain"), out_dir, config, profile.pretrain_steps, device,
                   data, data_kind, callback, keep=("f_g",))   # on Profile.pretrain_image_size crops when set

    f_g = build_colouriser(run, "f_g", 1, profile, config)  # gray -> RGB, 3 scales (a bin head if colour_bins)
    binned = bin_weights(f_g, config)
    opt = torch.optim.Adam(f_g.parameters(), lr=profile.stage_lr("pretrain"), betas=tuple(config.betas))
    scaler = make_scaler(profile, device)
    run.track(models={"f_g": f_g}, optimizers={"f_g": opt}, scaler=scaler, lr=profile.stage_lr("pretrain"))
    run.resume()
    fixed = run.pair_batches(0).fixed(4, device)

    def samples() -> dict:
        gray = to_gray(fixed["rgb"])
        return {"gray input": gray, "F_G(gray)": f_g(gray)[-1], "RGB target": fixed["rgb"]}

    with run:
        for step in run.steps():
            rgb = run.batch(step)["rgb"]
            gray = to_gray(rgb)
            with autocast(device, profile.amp):
                predictions, info = f_g(gray, return_features=True)  # coarsest first: H/4, H/2, H
            loss, parts = rgb_objective(predictions, info, rgb, config, binned)  # L_pp, Eq. (2) (+ the bins)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            run.end_step(step, parts if binned is None else {**parts, "total": loss}, samples=samples)
    return run.result()
