"""The chroma-bin head in training (``StageConfig.colour_bins`` > 0): building the colouriser, and its loss.

Shared by stage 2 (F_G on true grays), stage 3 (F_G on the translated gray) and the direct route (its MPFNet on
NIR), so that the three treat the head alike: bins fitted once on the training photos of the run, L_mix on the
MPFNet's own regression outputs at every scale (Eq. (2)'s form), plus ``colour_bins`` x the rebalanced
cross-entropy between the head's logits and the soft-encoded chroma of the target photo.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..colour_bins import ChromaBins, bins_loss, rgb_to_chroma
from ..losses import multiscale_mix_loss
from ..models import BinnedMPFNet
from ..models.binned import block_mean
from .configs import StageConfig, binned_mpfnet_spec, mpfnet_spec

__all__ = ["fit_bins", "build_colouriser", "bin_weights", "rgb_objective"]


def fit_bins(dataset: Any, step: float) -> ChromaBins:
    """The chroma bins the training photos of ``dataset`` (items with an ``"rgb"`` image) use, with their shares."""
    return ChromaBins.fit((dataset[i]["rgb"] for i in range(len(dataset))), step=step)


def build_colouriser(run, name: str, in_channels: int, profile, config: StageConfig, luma: str = "input") -> nn.Module:
    """``run.build`` of an MPFNet ``in_channels`` -> RGB, with a chroma-bin head fitted on ``run.dataset`` when
    ``config.colour_bins`` > 0 (``luma``: see :class:`~course_lib.models.BinnedMPFNet`)."""
    if not config.colour_bins:
        return run.build(name, mpfnet_spec(in_channels, 3, profile, config))
    bins = fit_bins(run.dataset, config.bins_step)
    net = run.build(name, binned_mpfnet_spec(in_channels, profile, config, len(bins), luma))
    net.set_bins(bins)
    return net


def bin_weights(net: nn.Module, config: StageConfig) -> dict | None:
    """What :func:`rgb_objective` needs of a binned network (its bins and their rebalancing weights), or None."""
    if not isinstance(net, BinnedMPFNet):
        return None
    bins = net.bins()
    return {"bins": bins, "weights": bins.rebalance(config.bins_rebalance), "stride": net.stride}


def rgb_objective(outputs: list[torch.Tensor], info: dict | None, rgb: torch.Tensor, config: StageConfig,
                  binned: dict | None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """L_mix at every scale (on the regression outputs of a binned network), plus ``config.colour_bins`` x the
    bins' cross-entropy when ``binned`` (from :func:`bin_weights`; a head of stride s is scored against the
    photo's chroma averaged over s x s blocks). Returns (loss, its parts by name)."""
    regression = info["regression"] if binned is not None else outputs
    mix = multiscale_mix_loss([p.float() for p in regression], rgb, alpha=config.alpha, chroma=config.chroma,
                              colour_match=config.colour_match)
    if binned is None:
        return mix, {"mix": mix}
    # a head of stride s scores s x s blocks: their mean chroma is the target
    target = binned["bins"].soft_encode(block_mean(rgb_to_chroma(rgb.float()), binned.get("stride", 1)))
    cross_entropy = bins_loss(info["logits"].float(), target, binned["weights"])
    return mix + config.colour_bins * cross_entropy, {"mix": mix, "bins": cross_entropy}
