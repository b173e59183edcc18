"""Losses and training: loss curves from a stage's ``losses.csv``, and notebook 06's experiment (distortions
with equal L1 distance, ranked by each loss)."""

from __future__ import annotations

import csv
import os
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from .images import DPI

__all__ = ["plot_loss_curves", "equal_l1_distortions", "plot_loss_ranking"]


def _read_curves(source: Any) -> dict[str, list[float]]:
    if isinstance(source, Mapping):
        return {k: [float(v) for v in vs] for k, vs in source.items()}
    path = os.fspath(source)
    if not os.path.exists(path):
        raise FileNotFoundError(f"history: no losses file at {path}")
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        curves: dict[str, list[float]] = {}
        for row in reader:
            for key, value in row.items():
                try:
                    curves.setdefault(key, []).append(float(value))
                except (TypeError, ValueError):
                    pass
    return curves


def plot_loss_curves(history: Any, x: str = "step", keys: Sequence[str] | None = None, smooth: int = 1,
                     logy: bool = False, ax=None, dpi: int = DPI) -> Figure:
    """Plot training curves from a dict name -> values or a ``losses.csv`` (one column per loss, ``x`` column
    for the abscissa if present). ``smooth`` > 1 draws a running mean over that many points."""
    curves = _read_curves(history)
    xs = curves.pop(x, None)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.0, 3.0), dpi=dpi)
    else:
        fig = ax.figure
    for key in keys or list(curves):
        if key not in curves:
            raise ValueError(f"keys: {key!r} is not a curve; available: {sorted(curves)}")
        values = np.asarray(curves[key], dtype=np.float64)
        if smooth > 1 and len(values) >= smooth:
            values = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
        steps = np.asarray(xs[-len(values):] if xs is not None else np.arange(len(values)))
        ax.plot(steps, values, label=key, lw=1.2)
    ax.set_xlabel(x if xs is not None else "step")
    ax.set_ylabel("loss")
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def equal_l1_distortions(image: torch.Tensor, l1: float | None = None, shift: int = 2, blur_sigma: float = 1.5,
                         cast: Sequence[float] = (0.3, 0.05, -0.3), noise_std: float = 0.25,
                         seed: int = 0) -> dict[str, torch.Tensor]:
    """Figure data for notebook 06: four distortions of ``image`` ([3,H,W] or [N,3,H,W] in [-1, 1]) with the
    *same* L1 distance to it (measured on [0, 1] images, as L_mix does): blur, shift, colour cast and noise.

    Each is ``x + a * (D(x) - x)`` with ``a`` in (0, 1] chosen so that mean |result - x| / 2 == ``l1`` (default:
    0.9 x the smallest L1 of the four raw distortions). A mix of two valid images stays in [-1, 1], so no clipping
    changes the distance afterwards. Raises ValueError if ``l1`` is larger than a raw distortion can reach.
    """
    x = image[None] if image.ndim == 3 else image
    if x.ndim != 4:
        raise ValueError(f"image: expected [3, H, W] or [N, 3, H, W] in [-1, 1], got shape {tuple(image.shape)}")
    x = x.detach().float()
    radius = max(1, int(3 * blur_sigma + 0.5))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (t / blur_sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    padded = torch.nn.functional.pad(x, (radius,) * 4, mode="reflect")
    blurred = torch.nn.functional.conv2d(padded, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    blurred = torch.nn.functional.conv2d(blurred, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    shifted = torch.nn.functional.pad(x, (shift, 0, shift, 0), mode="replicate")[..., : x.shape[-2], : x.shape[-1]]
    offset = torch.tensor(list(cast), dtype=x.dtype).view(1, -1, 1, 1)[:, :c]
    casted = (x + offset).clamp(-1, 1)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)) * noise_std
    noisy = (x + noise).clamp(-1, 1)
    raw = {"blur": blurred, "shift": shifted, "colour cast": casted, "noise": noisy}
    distances = {k: float((v - x).abs().mean()) / 2 for k, v in raw.items()}
    target = 0.9 * min(distances.values()) if l1 is None else float(l1)
    too_far = {k: d for k, d in distances.items() if d < target}
    if too_far:
        raise ValueError(f"l1: {target:.4g} is more than these distortions reach: {too_far}; pick a smaller l1")
    out = {k: x + (target / distances[k]) * (v - x) for k, v in raw.items()}
    return {k: (v[0] if image.ndim == 3 else v) for k, v in out.items()}


def plot_loss_ranking(table: Mapping[str, Mapping[str, float]], dpi: int = DPI) -> Figure:
    """One axes per loss/metric, one bar per distortion: ``table[distortion][loss] = value``. Lets the reader
    see how differently L1, SSIM and L_mix rank the same distortions."""
    distortions = list(table)
    if not distortions:
        raise ValueError("table: expected at least one distortion")
    losses = list(table[distortions[0]])
    fig, axes = plt.subplots(1, len(losses), figsize=(2.6 * len(losses), 2.8), dpi=dpi, squeeze=False)
    colours = plt.get_cmap("tab10")(np.arange(len(distortions)) % 10)
    for ax, loss in zip(axes[0], losses):
        values = [table[d][loss] for d in distortions]
        ax.bar(range(len(distortions)), values, color=colours)
        ax.set_xticks(range(len(distortions)))
        ax.set_xticklabels(distortions, rotation=45, ha="right", fontsize=7)
        ax.set_title(loss, fontsize=9)
    fig.tight_layout()
    return fig
