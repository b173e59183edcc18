"""``run_all``: the three stages of the progressive route and the direct baseline, one after another.

    translate (Eq. 1) -> pretrain (Eq. 2) -> finetune (Eqs. 3-5)      the progressive route (Fig. 1)
    train_direct (same network, same L_mix, same budget)               the baseline it is compared with

Every stage resumes from its own checkpoint, so calling ``run_all`` again after an interruption continues where
it stopped, and a finished stage is skipped in a second.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import torch

from .configs import DirectConfig, FinetuneConfig, PretrainConfig, TranslateConfig
from .direct import direct_stage_name, train_direct
from .loop import StageResult
from .profiles import Profile, get_profile
from .stage1_translate import translate
from .stage2_pretrain import pretrain
from .stage3_finetune import finetune

__all__ = ["run_all"]


def run_all(profile: Profile | str | None = None, out_dir: str | os.PathLike = "runs", data: Any = None, *,
            translate_config: TranslateConfig | None = None, pretrain_config: PretrainConfig | None = None,
            finetune_config: FinetuneConfig | None = None, direct_config: DirectConfig | None = None,
            direct_models: Sequence[str] = ("mpfnet",), device: str | torch.device | None = None,
            data_kind: str = "auto", callback: Callable[[int, dict], None] | None = None) -> dict[str, StageResult]:
    """Train translate, pretrain, finetune and the direct route(s) into ``out_dir``.

    Args:
        direct_models: which direct baselines to train: any of "mpfnet", "unet" (empty: none).
        the configs: one per stage (defaults: the paper's settings; ``make_configs(...)`` builds a consistent set).
        other arguments: as for the stages.
    Returns:
        ``{"translate": ..., "pretrain": ..., "finetune": ..., "direct": ..., "direct_unet": ...}`` StageResults
        (the direct entries for the models trained); ``results["finetune"].colorizer`` is the progressive
        colorizer, ``results["direct"].colorizer`` the direct one.
    """
    profile = get_profile(profile, verbose=not isinstance(profile, Profile))
    common = dict(device=device, data_kind=data_kind, callback=callback)
    results = {
        "translate": translate(profile, out_dir, data, translate_config, **common),
        "pretrain": pretrain(profile, out_dir, data, pretrain_config, **common),
    }
    results["finetune"] = finetune(profile, out_dir, data, finetune_config, **common)
    for model in direct_models:
        results[direct_stage_name(model)] = train_direct(profile, out_dir, data, direct_config, model=model, **common)
    return results
