"""The baseline route: one network trained **directly** NIR -> RGB, the comparison the paper rests on.

Section II.A: "Direct domain translation from NIR to RGB in a single path [...] produces unstable results". To
test that claim fairly the direct route gets

* the same network: an MPFNet, 1 -> 3 channels, with the profile's width and depth (``model="mpfnet"``), or the
  pix2pix ``UNetBaseline`` (``model="unet"``), the kind of single-path network the paper's predecessors used;
* the same loss: the multi-scale L_mix of Eqs. (2)-(3) against the RGB ground truth (a UNet has one output,
  which gets the single-scale ``mix_loss``);
* the same chroma-bin head when the config asks for one (``colour_bins`` > 0; ``model="mpfnet"`` only), its luma
  from its own RGB output since its input is NIR (``course_lib.train.bins``);
* the same data, augmentation, optimizer (Adam, lr 1e-4, betas (0.5, 0.999)) and seed;
* the same budget, ``profile.direct_steps``: by default as many generator updates as the progressive route's
  colorizer receives (pretrain + finetune steps; see ``profiles.py``).

Files go to ``out_dir/direct/`` (MPFNet) or ``out_dir/direct_unet/`` (UNet), so both can be trained in one run
folder next to the progressive stages.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import torch

from .bins import bin_weights, build_colouriser, rgb_objective
from .configs import DIRECT_MODELS, DirectConfig, check_config, default_config, unet_spec
from .loop import StageResult, StageRun, autocast, make_scaler, resolve_device
from .profiles import Profile, get_profile

__all__ = ["train_direct", "direct_stage_name"]


def direct_stage_name(model: str = "mpfnet") -> str:
    """Folder of the direct route under out_dir: ``direct`` (MPFNet) or ``direct_unet`` (UNetBaseline)."""
    if model not in DIRECT_MODELS:
        raise ValueError(f"model: expected one of {list(DIRECT_MODELS)}, got {model!r}")
    return "direct" if model == "mpfnet" else f"direct_{model}"


def train_direct(profile: Profile | str | None = None, out_dir: str | os.PathLike = "runs", data: Any = None,
                 config: DirectConfig | None = None, model: str = "mpfnet", *,
                 device: str | torch.device | None = None, data_kind: str = "auto",
                 callback: Callable[[int, dict], None] | None = None) -> StageResult:
    """Train ``model`` ("mpfnet" or "unet") NIR -> RGB with L_mix for ``profile.direct_steps`` steps (resumable).

    Other arguments as for :func:`course_lib.train.translate`. Returns a StageResult with the model ``net``
    (eval mode) and ``colorizer``: a ``DirectColorizer(net)``.
    """
    from .inference import DirectColorizer

    stage = direct_stage_name(model)
    if model != "mpfnet" and config is not None and config.colour_bins:
        raise ValueError(f"colour_bins={config.colour_bins}: the chroma-bin head is built on an MPFNet; "
                         f"train_direct(model={model!r}) has none (use model='mpfnet' or colour_bins=0)")
    profile = get_profile(profile, verbose=not isinstance(profile, Profile))
    config = config if config is not None else default_config("direct", profile)
    check_config(config)
    device = resolve_device(device)
    run = StageRun(stage, profile, out_dir, config, profile.direct_steps, device, data, data_kind, callback,
                   extra_config={"model": model}, keep=("net",))

    if model == "mpfnet":   # its luma from its own RGB output when it has a bin head: its input is NIR, not gray
        net = build_colouriser(run, "net", 1, profile, config, luma="regression")
    else:
        net = run.build("net", unet_spec(1, 3, profile, config))
    binned = bin_weights(net, config)
    opt = torch.optim.Adam(net.parameters(), lr=profile.stage_lr("direct"), betas=tuple(config.betas))
    scaler = make_scaler(profile, device)
    run.track(models={"net": net}, optimizers={"net": opt}, scaler=scaler, lr=profile.stage_lr("direct"))
    run.resume()
    fixed = run.pair_batches(0).fixed(4, device)

    def finest(output):  # MPFNet returns its scales (coarsest first), the UNet one tensor
        return output[-1] if isinstance(output, (list, tuple)) else output

    def samples() -> dict:
        return {"NIR": fixed["nir"], f"{model}(NIR)": finest(net(fixed["nir"])), "RGB target": fixed["rgb"]}

    with run:
        for step in run.steps():
            batch = run.batch(step)
            with autocast(device, profile.amp):
                output, info = net(batch["nir"], return_features=True) if binned else (net(batch["nir"]), None)
            outputs = list(output) if isinstance(output, (list, tuple)) else [output]   # the UNet: one scale
            loss, parts = rgb_objective(outputs, info, batch["rgb"], config, binned)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            run.end_step(step, parts if binned is None else {**parts, "total": loss}, samples=samples)
    return run.result(colorizer=DirectColorizer(net).eval())
