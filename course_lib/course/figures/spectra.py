"""Light and cameras (notebook 01): spectra over wavelength, material swatches as each camera sees them, and
the NIR-vs-RGB scatter that shows the mapping ambiguity of the paper's introduction."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patches
from matplotlib.figure import Figure

from .images import DPI, to_display

__all__ = ["plot_spectra", "plot_material_swatches", "plot_nir_vs_rgb"]


def _shade_bands(ax, low: float, high: float) -> None:
    visible = np.linspace(max(low, 400.0), min(high, 700.0), 60)
    if len(visible) > 1 and visible[-1] > visible[0]:
        colours = plt.get_cmap("nipy_spectral")(np.linspace(0.1, 0.9, len(visible) - 1))
        for (a, b), c in zip(zip(visible[:-1], visible[1:]), colours):
            ax.axvspan(a, b, color=c, alpha=0.08, lw=0)
    if high > 780.0:
        ax.axvspan(max(low, 780.0), high, color="0.5", alpha=0.12, lw=0)
        ax.text(max(low, 780.0) + 5, 0.98, "NIR", transform=ax.get_xaxis_transform(), va="top", fontsize=8)
    if low < 700.0:
        ax.text(max(low, 400.0) + 5, 0.98, "visible", transform=ax.get_xaxis_transform(), va="top", fontsize=8)


def plot_spectra(
    wavelengths: Any,
    spectra: Mapping[str, Any],
    colors: Mapping[str, Any] | None = None,
    ax=None,
    title: str | None = None,
    ylabel: str = "reflectance",
    shade_bands: bool = True,
    figsize: tuple[float, float] = (6.0, 3.0),
    dpi: int = DPI,
) -> Figure:
    """Plot curves over wavelength (nm): reflectances, an illuminant, camera responses.

    ``spectra`` maps a label to a 1-D array sampled at ``wavelengths``. The visible band is shaded in rainbow
    colours and the NIR band (> 780 nm) in gray, so the reader sees which part of a curve each camera sees.
    """
    wl = np.asarray(wavelengths, dtype=np.float64)
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    else:
        fig = ax.figure
    for label, values in spectra.items():
        values = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float64)
        if values.shape != wl.shape:
            raise ValueError(f"spectra[{label!r}]: expected shape {wl.shape} (one value per wavelength), "
                             f"got {values.shape}")
        ax.plot(wl, values, label=label, color=None if colors is None else colors.get(label), lw=1.5)
    if shade_bands:
        _shade_bands(ax, float(wl.min()), float(wl.max()))
    ax.set_xlim(float(wl.min()), float(wl.max()))
    ax.set_xlabel("wavelength (nm)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def plot_material_swatches(
    names: Sequence[str], rgb: Any, nir: Any, title: str | None = None, dpi: int = DPI
) -> Figure:
    """Two rows of swatches, one column per material: its colour as the RGB camera sees it (top) and its gray
    level as the NIR camera sees it (bottom). Columns with equal NIR grays but different colours are the
    mapping ambiguity of the paper's introduction. ``rgb``: (K, 3) in [0, 1]; ``nir``: (K,) in [0, 1]."""
    rgb = np.asarray(rgb, dtype=np.float64).clip(0, 1)
    nir = np.asarray(nir, dtype=np.float64).clip(0, 1)
    k = len(names)
    if rgb.shape != (k, 3) or nir.shape != (k,):
        raise ValueError(f"rgb, nir: expected shapes ({k}, 3) and ({k},) for {k} names, "
                         f"got {rgb.shape} and {nir.shape}")
    fig, ax = plt.subplots(figsize=(max(3.0, 0.8 * k), 2.6), dpi=dpi)
    for i in range(k):
        ax.add_patch(patches.Rectangle((i, 1), 0.9, 0.9, color=rgb[i]))
        ax.add_patch(patches.Rectangle((i, 0), 0.9, 0.9, color=(nir[i],) * 3))
        ax.text(i + 0.45, -0.1, names[i], rotation=45, ha="right", va="top", fontsize=7)
    ax.text(-0.1, 1.45, "RGB", ha="right", va="center", fontsize=8)
    ax.text(-0.1, 0.45, "NIR", ha="right", va="center", fontsize=8)
    ax.set_xlim(-0.8, k)
    ax.set_ylim(-0.1, 2.0)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_nir_vs_rgb(nir: Any, rgb: Any, max_points: int = 3000, seed: int = 0, ax=None, dpi: int = DPI) -> Figure:
    """Scatter every pixel (a random subset) at (NIR value, luminance of its RGB), drawn in its own RGB colour.

    A vertical line of differently coloured dots is one NIR value with many RGB answers: what a network
    trained with an L1/L2 loss averages into a dull colour. ``nir``: [1,H,W] and ``rgb``: [3,H,W] in [-1, 1].
    """
    n = to_display(nir).reshape(-1)
    c = to_display(rgb).reshape(-1, 3)
    if n.shape[0] != c.shape[0]:
        raise ValueError(f"nir, rgb: expected the same number of pixels, got {n.shape[0]} and {c.shape[0]}")
    rng = np.random.default_rng(seed)
    idx = rng.choice(n.shape[0], size=min(max_points, n.shape[0]), replace=False)
    luminance = c @ np.array([0.299, 0.587, 0.114])
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.6, 3.2), dpi=dpi)
    else:
        fig = ax.figure
    ax.scatter(n[idx], luminance[idx], c=c[idx], s=6, edgecolors="none")
    ax.set_xlabel("NIR value")
    ax.set_ylabel("RGB luminance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_facecolor("0.92")
    fig.tight_layout()
    return fig
