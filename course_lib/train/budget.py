"""Budgets in CPU-seconds: what one training step of each stage costs on this machine, measured, so that
:func:`~course_lib.train.profiles.stage_budget` can give the direct route as many CPU-seconds as the whole
progressive route (``direct="seconds"``), besides its default of equal generator updates.

    from course_lib.train import get_profile
    from course_lib.train.budget import measure_step_seconds

    profile = get_profile("cpu")
    seconds = measure_step_seconds(profile, data="data/vcip2020")       # {"translate": 2.5, "pretrain": 0.44, ...}
    fair = profile.with_budget(400, 120, direct="seconds", step_seconds=seconds)

The measurement trains every stage for a few steps, with the real stage functions, data, augmentation and
networks of ``profile``, in a temporary run folder, and times the steps between the first and the last (so model
building, data loading, the first step's allocations and the final checkpoint are left out). CPU-seconds are the
process's (``time.process_time``: all its threads, the prefetch thread included); on CUDA the wall time between
synchronised steps is used instead, since a GPU step's cost is not CPU time. When stage 1 starts with a supervised
warm-up (``Profile.translate_warmup``), both kinds of step are timed and ``translate`` is their mean over the
profile's translate steps.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

from .profiles import STAGES, Profile, get_profile

__all__ = ["measure_step_seconds"]


def measure_step_seconds(profile: Profile | str | None = None, data: Any = None, *, steps: int = 4,
                         configs: dict | None = None, device: str | torch.device | None = None,
                         data_kind: str = "auto") -> dict[str, float]:
    """Seconds per training step of each stage (``translate``, ``pretrain``, ``finetune``, ``direct``) at the sizes
    of ``profile``, measured here.

    Args:
        profile: a Profile or its name.
        data: the training data as the stage functions take it (None: spectral scenes; a folder; a dataset).
        steps: steps trained per stage (>= 3); the time between the callbacks of step 1 and step ``steps - 1``
            is divided by ``steps - 2``.
        configs: stage configs (``make_configs(...)``), default the profile's.
        device: where to train (default: CUDA if available).
        data_kind: folder layout, as the stage functions take it.
    """
    from .configs import make_configs
    from .device import resolve_device
    from .direct import train_direct
    from .stage1_translate import translate
    from .stage2_pretrain import pretrain
    from .stage3_finetune import finetune

    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 3:
        raise ValueError(f"steps: expected an integer >= 3, got {steps!r}")
    profile = get_profile(profile, verbose=False)
    configs = configs if configs is not None else make_configs(profile)
    device = resolve_device(device)
    short = profile.replace(**{f"{s}_steps": steps for s in STAGES}, sample_every=steps, checkpoint_every=steps,
                            log_every=1, translate_warmup=0)
    clock: Callable[[], float]
    if device.type == "cuda":
        def clock() -> float:
            torch.cuda.synchronize(device)
            return time.perf_counter()
    else:
        clock = time.process_time
    functions = {"translate": translate, "pretrain": pretrain, "finetune": finetune, "direct": train_direct}
    seconds = {}
    with tempfile.TemporaryDirectory(prefix="step-seconds-") as folder:
        for stage in STAGES:
            stamps: dict[int, float] = {}

            def stamp(step: int, losses: dict) -> None:
                stamps[step] = clock()

            def timed(run_profile: Profile, where: Path = Path(folder)) -> float:
                stamps.clear()
                functions[stage](run_profile, where, data, configs[stage], device=device, data_kind=data_kind,
                                 callback=stamp)
                return (stamps[steps - 1] - stamps[1]) / (steps - 2)

            warmup = min(profile.translate_warmup, profile.translate_steps) if stage == "translate" else 0
            if warmup:
                # a warm-up step and a CycleGAN step cost differently: the stage's mean cost per step
                # (a stage 1 of warm-up steps only, as the cpu profile's, has no CycleGAN step to time)
                cycle = timed(short.replace(translate_warmup=0), Path(folder) / "cycle-only") \
                    if warmup < profile.translate_steps else 0.0
                warm = timed(short.replace(translate_warmup=steps))
                seconds[stage] = (warmup * warm + (profile.translate_steps - warmup) * cycle) / profile.translate_steps
            else:
                seconds[stage] = timed(short)
    return seconds
