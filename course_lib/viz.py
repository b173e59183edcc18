"""Plotting helpers for the course notebooks: image grids, spectra, block diagrams, attention gates, shapes.

Every picture a notebook shows is drawn here, so the notebooks stay short and the drawing code is tested
(``tests/test_viz.py``). Conventions:

- image tensors are float in [-1, 1] (CHW, 1HW, HW or a batch NCHW), as everywhere in ``course_lib``;
  numpy ``uint8`` arrays are 0..255 (HxW or HxWx3) and numpy float arrays are taken to be in [0, 1];
- every plotting function returns the :class:`matplotlib.figure.Figure` it drew (assign it, ``fig = ...``,
  so Jupyter shows it once);
- figures are small (``dpi=80`` by default) so the notebooks stay fast.

The two block diagrams, :func:`draw_pipeline` (the paper's Fig. 1) and :func:`draw_mpfnet` (Fig. 2(a)), are
drawn from the same small :func:`draw_block_diagram` helper out of matplotlib patches and arrows.
"""

from __future__ import annotations

import csv
import inspect
import os
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patches
from matplotlib.figure import Figure

__all__ = [
    "to_display",
    "show_images",
    "show_item",
    "show_colorizations",
    "show_material_map",
    "plot_spectra",
    "plot_material_swatches",
    "plot_nir_vs_rgb",
    "draw_block_diagram",
    "draw_pipeline",
    "draw_mpfnet",
    "draw_coordinate_attention",
    "show_attention_gates",
    "record_shapes",
    "format_table",
    "show_table",
    "plot_shape_profile",
    "plot_channel_stats",
    "show_scale_predictions",
    "plot_loss_curves",
    "plot_loss_ranking",
    "equal_l1_distortions",
    "source_of",
    "show_source",
]

DPI = 80


# --------------------------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------------------------
def to_display(image: Any) -> np.ndarray:
    """Convert an image to a float numpy array in [0, 1] that ``imshow`` understands (HxW or HxWx3).

    Accepts a tensor in [-1, 1] shaped HW, CHW (C = 1 or 3) or NCHW with N = 1; a numpy ``uint8`` array (0..255,
    HxW or HxWx3); or a numpy float array already in [0, 1]. Display only: the conversion used for metrics is
    ``course_lib.metrics.to_uint8``.
    """
    if isinstance(image, torch.Tensor):
        array = image.detach().to("cpu", torch.float32)
        if array.ndim == 4:
            if array.shape[0] != 1:
                raise ValueError(
                    f"image: expected a single image, got a batch of {array.shape[0]} (shape {tuple(array.shape)}); "
                    "index it (image[0]) or pass the batch to show_images"
                )
            array = array[0]
        if array.ndim == 3:
            if array.shape[0] not in (1, 3):
                raise ValueError(f"image: expected 1 or 3 channels first (CHW), got shape {tuple(array.shape)}")
            array = array.permute(1, 2, 0)
        elif array.ndim != 2:
            raise ValueError(f"image: expected a tensor shaped HW, CHW or 1CHW, got shape {tuple(array.shape)}")
        out = ((array.numpy() + 1.0) / 2.0).clip(0.0, 1.0)
    else:
        array = np.asarray(image)
        if array.dtype == np.uint8:
            out = array.astype(np.float32) / 255.0
        elif np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer):
            out = array.astype(np.float32).clip(0.0, 1.0)
        else:
            raise ValueError(f"image: unsupported dtype {array.dtype}")
        if out.ndim not in (2, 3) or (out.ndim == 3 and out.shape[-1] not in (1, 3)):
            raise ValueError(f"image: expected a numpy array shaped HxW or HxWx3, got shape {out.shape}")
    if out.ndim == 3 and out.shape[-1] == 1:
        out = out[..., 0]
    return out


def _as_image_list(images: Any) -> list:
    if isinstance(images, torch.Tensor) and images.ndim == 4:
        return list(images)
    if isinstance(images, (list, tuple)):
        return list(images)
    return [images]


def _grid(n: int, ncols: int | None, size: float, dpi: int, aspect: float = 1.0):
    ncols = max(1, min(n, ncols or n))
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows * aspect), dpi=dpi, squeeze=False
    )
    flat = list(axes.ravel())
    for ax in flat[n:]:
        fig.delaxes(ax)
    return fig, flat[:n]


def show_images(
    images: Any,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    size: float = 2.0,
    suptitle: str | None = None,
    dpi: int = DPI,
) -> Figure:
    """Show images side by side (a list of images, or a batch tensor NCHW), one axes per image.

    Single-channel images are drawn in gray with a fixed [0, 1] range, so a dark NIR image looks dark.
    """
    items = _as_image_list(images)
    if not items:
        raise ValueError("images: expected at least one image")
    if titles is not None and len(titles) != len(items):
        raise ValueError(f"titles: expected {len(items)} titles (one per image), got {len(titles)}")
    fig, axes = _grid(len(items), ncols, size, dpi)
    for i, (ax, image) in enumerate(zip(axes, items)):
        array = to_display(image)
        if array.ndim == 2:
            ax.imshow(array, cmap="gray", vmin=0.0, vmax=1.0)
        else:
            ax.imshow(array)
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def show_colorizations(
    methods: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    size: float = 1.9,
    suptitle: str | None = None,
    dpi: int = DPI,
) -> Figure:
    """One row per item: its NIR image, what each method makes of it, and the ground truth.

    ``methods``: name -> callable NIR batch (N, 1, H, W) in [-1, 1] -> RGB batch (N, 3, H, W) (a colorizer, or one
    of ``course_lib.metrics.reference_predictors``); a list/tuple output (MPFNet's scales) uses its last element.
    ``items``: dicts with "nir" [1, H, W], "rgb" [3, H, W] and optionally "name". Runs without gradients.
    """
    items = list(items)
    if not items:
        raise ValueError("items: expected at least one item with 'nir' and 'rgb'")
    columns = ["NIR", *methods, "ground truth"]
    fig, axes = plt.subplots(len(items), len(columns), figsize=(size * len(columns), size * len(items)), dpi=dpi,
                             squeeze=False)
    for row, item in enumerate(items):
        nir = item["nir"].unsqueeze(0)
        pictures = [item["nir"]]
        with torch.no_grad():
            for name, method in methods.items():
                out = method(nir)
                out = out[-1] if isinstance(out, (list, tuple)) else out
                if not isinstance(out, torch.Tensor) or tuple(out.shape[-3:]) != (3, *nir.shape[-2:]):
                    got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                    raise ValueError(f"method {name!r}: expected an RGB batch of shape (1, 3, {nir.shape[-2]}, "
                                     f"{nir.shape[-1]}), got {got}")
                pictures.append(out[0].detach().float().cpu())
        pictures.append(item["rgb"])
        for col, (ax, picture) in enumerate(zip(axes[row], pictures)):
            array = to_display(picture)
            ax.imshow(array, cmap="gray" if array.ndim == 2 else None, vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(columns[col], fontsize=9)
            if col == 0 and "name" in item:
                ax.set_ylabel(str(item["name"]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def show_item(item: Mapping[str, Any], material_names: Any = None, size: float = 2.2, dpi: int = DPI) -> Figure:
    """Show one dataset item: its NIR image, its RGB image, the gray (BT.601) version of the RGB and, for
    spectral scenes, the material map. ``item`` is a dict as returned by every ``course_lib.data`` dataset."""
    from course_lib.data import to_gray  # imported here: viz must import without the data layer

    images, titles = [item["nir"], item["rgb"], to_gray(item["rgb"])], ["NIR (input)", "RGB (target)", "gray of RGB"]
    n = len(images) + (1 if "material" in item else 0)
    fig, axes = _grid(n, n, size, dpi)
    for ax, image, title in zip(axes, images, titles):
        array = to_display(image)
        ax.imshow(array, cmap="gray" if array.ndim == 2 else None, vmin=0.0, vmax=1.0)
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    if "material" in item:
        _draw_material_map(axes[-1], item["material"], material_names, legend=True)
    fig.suptitle(str(item.get("name", "")), fontsize=9)
    fig.tight_layout()
    return fig


def _material_name(names: Any, index: int) -> str:
    if names is None:
        return f"material {index}"
    if isinstance(names, Mapping):
        return str(names.get(index, f"material {index}"))
    names = list(names)
    if 0 <= index < len(names):
        entry = names[index]
        return str(getattr(entry, "name", entry))
    return f"material {index}"


def _draw_material_map(ax, material: Any, names: Any, legend: bool) -> list[int]:
    labels = np.asarray(material.detach().cpu() if isinstance(material, torch.Tensor) else material)
    if labels.ndim != 2:
        raise ValueError(f"material: expected an HxW map of material indices, got shape {labels.shape}")
    present = [int(v) for v in np.unique(labels)]
    cmap = plt.get_cmap("tab20")
    colours = {value: cmap(value % 20) for value in present}  # fixed per id: the same colour in every scene
    rgba = np.zeros(labels.shape + (4,), dtype=np.float32)
    for value, colour in colours.items():
        rgba[labels == value] = colour
    ax.imshow(rgba)
    ax.set_title("materials", fontsize=9)
    ax.set_axis_off()
    if legend:
        handles = [patches.Patch(color=colours[v], label=_material_name(names, v)) for v in present]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    return present


def show_material_map(
    material: Any, names: Any = None, image: Any = None, size: float = 2.5, dpi: int = DPI
) -> Figure:
    """Draw a per-pixel material map (HxW integer indices) with a legend naming the materials present.

    ``names`` maps an index to a name: a sequence (``names[i]``, or ``names[i].name``) or a dict. With ``image``
    the image is drawn first, beside the map.
    """
    n = 2 if image is not None else 1
    fig, axes = _grid(n, n, size, dpi)
    if image is not None:
        array = to_display(image)
        axes[0].imshow(array, cmap="gray" if array.ndim == 2 else None, vmin=0.0, vmax=1.0)
        axes[0].set_axis_off()
    _draw_material_map(axes[-1], material, names, legend=True)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------------------
# Spectra
# --------------------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------------------
# Block diagrams (Fig. 1 and Fig. 2(a))
# --------------------------------------------------------------------------------------------------------------
@dataclass
class Box:
    """One block of a diagram: centre (x, y), label, face colour, width and height (axes units)."""

    x: float
    y: float
    label: str
    color: str = "#dde8f5"
    width: float = 1.6
    height: float = 0.7


def draw_block_diagram(
    boxes: Mapping[str, Box],
    arrows: Iterable[tuple],
    legend: Mapping[str, str] | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (9.0, 4.0),
    dpi: int = DPI,
) -> Figure:
    """Draw boxes and arrows with matplotlib patches.

    ``arrows`` holds tuples ``(source, target, colour[, label[, curvature]])`` naming boxes; an arrow runs from
    the edge of one box to the edge of the other. ``legend`` maps a colour to what that colour of arrow means.
    """
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    drawn = {}
    for key, box in boxes.items():
        patch = patches.FancyBboxPatch(
            (box.x - box.width / 2, box.y - box.height / 2), box.width, box.height,
            boxstyle="round,pad=0.02,rounding_size=0.12", fc=box.color, ec="0.25", lw=1.0,
        )
        ax.add_patch(patch)
        ax.text(box.x, box.y, box.label, ha="center", va="center", fontsize=9)
        drawn[key] = patch
    for arrow in arrows:
        source, target, colour = arrow[:3]
        label = arrow[3] if len(arrow) > 3 else None
        rad = arrow[4] if len(arrow) > 4 else 0.0
        if source not in boxes or target not in boxes:
            missing = source if source not in boxes else target
            raise ValueError(f"arrows: box {missing!r} is not in boxes ({sorted(boxes)})")
        a, b = boxes[source], boxes[target]
        connector = patches.FancyArrowPatch(
            (a.x, a.y), (b.x, b.y), patchA=drawn[source], patchB=drawn[target], arrowstyle="-|>",
            mutation_scale=12, color=colour, lw=1.6, connectionstyle=f"arc3,rad={rad}",
        )
        ax.add_patch(connector)
        if label:
            ax.text((a.x + b.x) / 2, (a.y + b.y) / 2 + 0.18 + rad, label, ha="center", va="bottom",
                    fontsize=7, color=colour)
    xs = [b.x - b.width / 2 for b in boxes.values()] + [b.x + b.width / 2 for b in boxes.values()]
    ys = [b.y - b.height / 2 for b in boxes.values()] + [b.y + b.height / 2 for b in boxes.values()]
    ax.set_xlim(min(xs) - 0.3, max(xs) + 0.3)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if legend:
        handles = [patches.Patch(color=c, label=text) for c, text in legend.items()]
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.02), ncol=len(handles),
                  fontsize=7, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


TRANSLATE_COLOUR, PRETRAIN_COLOUR, FINETUNE_COLOUR = "#2ca02c", "#d62728", "#1f77b4"


def draw_pipeline(dpi: int = DPI) -> Figure:
    """The paper's Fig. 1: NIR -> G_N2G -> gray-like -> F_G -> RGB, with the three training flows.

    Green: stage 1 ``translate`` (CycleGAN between NIR and gray, Eq. (1)); red: stage 2 ``pretrain`` (F_G learns
    gray -> RGB, Eq. (2)); blue: stage 3 ``finetune`` (NIR -> G_N2G -> F_G -> RGB with L_pf and D_G^feat, Eqs. (3)-(5)).
    """
    net, disc, data = "#fde9c8", "#f3d6e4", "#e6e6e6"
    boxes = {
        "nir": Box(0.0, 2.0, "NIR $x_n$", data, 1.3),
        "g_n2g": Box(2.2, 2.0, "$G_{N2G}$\n(MPFNet 1→1)", net),
        "x_n2g": Box(4.4, 2.0, "$x_{n2g}$\n(gray-like)", data, 1.4),
        "f_g": Box(6.6, 2.0, "$F_G$\n(MPFNet 1→3)", net),
        "rgb_out": Box(8.8, 2.0, "RGB\n(3 scales)", data, 1.3),
        "rgb": Box(6.6, 4.0, "RGB $y$", data, 1.3),
        "gray": Box(4.4, 4.0, "gray $x_g$\n(BT.601 of $y$)", data, 1.5),
        "g_g2n": Box(2.2, 0.0, "$G_{G2N}$\n(MPFNet 1→1)", net),
        "d_img": Box(4.4, 0.0, "$D_N^{img}$, $D_G^{img}$\n(PatchGAN)", disc, 1.7),
        "d_feat": Box(8.8, 0.0, "$D_G^{feat}$", disc, 1.3),
    }
    arrows = [
        ("nir", "g_n2g", FINETUNE_COLOUR),
        ("g_n2g", "x_n2g", FINETUNE_COLOUR),
        ("x_n2g", "f_g", FINETUNE_COLOUR),
        ("f_g", "rgb_out", FINETUNE_COLOUR, "$L_{pf}$"),
        ("rgb", "gray", PRETRAIN_COLOUR),
        ("gray", "f_g", PRETRAIN_COLOUR, "$L_{pp}$", 0.0),
        ("x_n2g", "g_g2n", TRANSLATE_COLOUR, "cycle", 0.2),
        ("g_g2n", "nir", TRANSLATE_COLOUR, "", -0.2),
        ("x_n2g", "d_img", TRANSLATE_COLOUR),
        ("gray", "x_n2g", TRANSLATE_COLOUR, "$L_{tran}$", 0.0),
        ("rgb_out", "d_feat", FINETUNE_COLOUR, "$L^{feat}_{GAN}$"),
    ]
    legend = {
        TRANSLATE_COLOUR: "1 translate (Eq. 1)",
        PRETRAIN_COLOUR: "2 pretrain F_G (Eq. 2)",
        FINETUNE_COLOUR: "3 fine-tune (Eqs. 3-5)",
    }
    return draw_block_diagram(boxes, arrows, legend, title="Fig. 1: NIR → gray → RGB", figsize=(9.5, 4.6), dpi=dpi)


def draw_mpfnet(scales: int = 3, dpi: int = DPI) -> Figure:
    """The paper's Fig. 2(a): one row per scale, coarsest on top. Each scale runs an FEB on its input (joined
    with the upsampled features of the coarser scale: the cross-scale skip), then an SCCM that predicts the
    image at that scale and refines the features for the next scale."""
    if scales not in (1, 2, 3):
        raise ValueError(f"scales: expected 1, 2 or 3, got {scales}")
    boxes, arrows = {}, []
    for row in range(scales):
        factor = 2 ** (scales - 1 - row)
        y = 2.0 * (scales - 1 - row)
        name = "1" if factor == 1 else f"1/{factor}"
        boxes[f"in{row}"] = Box(0.0, y, f"input ×{name}", "#e6e6e6", 1.4)
        boxes[f"feb{row}"] = Box(2.4, y, "FEB\n(UNet + RCAB)", "#fde9c8", 1.7)
        boxes[f"sccm{row}"] = Box(4.8, y, "SCCM", "#d9ecd0", 1.2)
        boxes[f"out{row}"] = Box(7.0, y, f"prediction ×{name}", "#e6e6e6", 1.7)
        arrows += [(f"in{row}", f"feb{row}", "0.2"), (f"feb{row}", f"sccm{row}", "0.2"),
                   (f"sccm{row}", f"out{row}", "0.2", "$L_{mix}$")]
        arrows.append((f"in{row}", f"sccm{row}", "0.55", "", -0.35))
        if row > 0:
            arrows.append((f"sccm{row - 1}", f"feb{row}", FINETUNE_COLOUR, "features ↑2", 0.0))
    legend = {"0.2": "per-scale path", "0.55": "image skip into SCCM", FINETUNE_COLOUR: "cross-scale skip"}
    return draw_block_diagram(boxes, arrows, legend, title=f"Fig. 2(a): MPFNet with {scales} scale(s)",
                              figsize=(8.0, 1.4 + 1.5 * scales), dpi=dpi)


def draw_coordinate_attention(dpi: int = DPI) -> Figure:
    """Coordinate attention (Hou et al. 2021), the "CA" inside the RCAB of Fig. 2(b), as a block diagram:
    pool along W and along H, a shared 1x1 conv, split, one 1x1 conv + sigmoid per direction, multiply."""
    grey, conv, gate = "#e6e6e6", "#fde9c8", "#d9ecd0"
    boxes = {
        "x": Box(0.0, 1.5, "x\n[N, C, H, W]", grey, 1.5),
        "ph": Box(2.3, 3.0, "avg over W\n[N, C, H, 1]", grey, 1.7),
        "pw": Box(2.3, 0.0, "avg over H\n[N, C, 1, W]", grey, 1.7),
        "shared": Box(4.7, 1.5, "concat (H+W)\nshared 1x1 conv\n+ h-swish", conv, 1.8, 1.0),
        "ch": Box(7.1, 3.0, "1x1 conv + sigmoid\ngate_h [N, C, H, 1]", gate, 2.1),
        "cw": Box(7.1, 0.0, "1x1 conv + sigmoid\ngate_w [N, C, 1, W]", gate, 2.1),
        "out": Box(9.6, 1.5, "x * gate_h * gate_w", grey, 1.9),
    }
    arrows = [("x", "ph", "0.2"), ("x", "pw", "0.2"), ("ph", "shared", "0.2"), ("pw", "shared", "0.2"),
              ("shared", "ch", "0.2"), ("shared", "cw", "0.2"), ("ch", "out", "0.2"), ("cw", "out", "0.2")]
    return draw_block_diagram(boxes, arrows, None,
                              title="Coordinate attention (the CA of Fig. 2(b))", figsize=(9.5, 3.8), dpi=dpi)


# --------------------------------------------------------------------------------------------------------------
# Attention gates (Fig. 2(b))
# --------------------------------------------------------------------------------------------------------------
def show_attention_gates(
    image: Any, gate_h: torch.Tensor, gate_w: torch.Tensor, channels: Sequence[int] = (0, 1, 2, 3),
    size: float = 2.0, dpi: int = DPI,
) -> Figure:
    """Draw coordinate-attention gates: the image, then for each chosen channel the map
    ``gate_h[c] (H x 1) * gate_w[c] (1 x W)`` by which CoordinateAttention multiplies that channel.

    ``gate_h``: [N, C, H, 1], ``gate_w``: [N, C, 1, W] (the module's ``last_gates``); the first sample is drawn.
    Each panel is contrast-stretched (its value range is in the title): bright rows/columns are where the block
    lets that channel through. The profiles along the left (cyan, gate_h) and bottom (green, gate_w) edges are
    the two gates, each stretched to its own range.
    """
    if gate_h.ndim != 4 or gate_h.shape[-1] != 1:
        raise ValueError(f"gate_h: expected shape [N, C, H, 1], got {tuple(gate_h.shape)}")
    if gate_w.ndim != 4 or gate_w.shape[-2] != 1:
        raise ValueError(f"gate_w: expected shape [N, C, 1, W], got {tuple(gate_w.shape)}")
    channels = [c for c in channels if c < gate_h.shape[1]]
    fig, axes = _grid(1 + len(channels), 1 + len(channels), size, dpi)
    array = to_display(image)
    axes[0].imshow(array, cmap="gray" if array.ndim == 2 else None, vmin=0.0, vmax=1.0)
    axes[0].set_title("input", fontsize=9)
    axes[0].set_axis_off()
    gh, gw = gate_h[0, :, :, 0].detach().float().cpu(), gate_w[0, :, 0, :].detach().float().cpu()
    def unit(v: torch.Tensor) -> np.ndarray:  # min-max to [0, 1] for drawing a profile
        v = v.numpy()
        return (v - v.min()) / (v.max() - v.min() + 1e-12)

    for ax, c in zip(axes[1:], channels):
        gate = torch.outer(gh[c], gw[c]).numpy()
        ax.imshow(gate, cmap="magma")  # auto contrast: the gates' *pattern* matters, their range is in the title
        height, width = gate.shape
        ax.plot(unit(gh[c]) * width * 0.3, np.arange(height), color="cyan", lw=1.2)  # H-gate along the left edge
        ax.plot(np.arange(width), (1 - unit(gw[c]) * 0.3) * height - 0.5, color="lime", lw=1.2)  # W-gate, bottom
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
        ax.set_title(f"channel {c}: {gate.min():.2f}..{gate.max():.2f}", fontsize=8)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------------------
# Shapes (forward hooks) and tables
# --------------------------------------------------------------------------------------------------------------
def _shape_of(value: Any):
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (list, tuple)):
        shapes = [_shape_of(v) for v in value]
        shapes = [s for s in shapes if s is not None]
        return shapes[0] if len(shapes) == 1 else shapes or None
    return None


@torch.no_grad()
def record_shapes(model: torch.nn.Module, x: torch.Tensor, types: tuple = (), leaves: bool = False,
                  names: Sequence[str] | None = None) -> list[dict]:
    """Run ``model(x)`` once with forward hooks and return one row per hooked module, in call order:
    ``{"name", "type", "input", "output", "params"}`` (shapes as tuples).

    Hooks go on the modules named in ``names`` (as in ``model.named_modules()``, e.g. ``"encoder.0"``); else on
    instances of ``types``; else, with ``leaves=True``, on every leaf module; else on the model's direct children.
    The hooks are removed afterwards, and the model is run in eval mode under ``torch.no_grad()``.
    """
    rows: list[dict] = []
    handles = []

    def hook(name):
        def record(module, inputs, output):
            rows.append({
                "name": name,
                "type": type(module).__name__,
                "input": _shape_of(inputs),
                "output": _shape_of(output),
                "params": sum(p.numel() for p in module.parameters()),
            })
        return record

    if names is not None:
        modules = dict(model.named_modules())
        missing = [n for n in names if n not in modules]
        if missing:
            raise ValueError(f"names: {missing} are not modules of the model; some valid names: {list(modules)[1:12]}")
        selected = [(n, modules[n]) for n in names]
    elif types:
        selected = [(n, m) for n, m in model.named_modules() if n and isinstance(m, types)]
    elif leaves:
        selected = [(n, m) for n, m in model.named_modules() if n and not list(m.children())]
    else:
        selected = list(model.named_children())
    for name, module in selected:
        handles.append(module.register_forward_hook(hook(name)))
    was_training = model.training
    try:
        model.eval()
        model(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return rows


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
                 floatfmt: str = "{:.4g}") -> str:
    """Format rows (dicts) as a Markdown table; ``columns`` picks and orders the keys (default: first row's)."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())

    def cell(v):
        if isinstance(v, float):
            return floatfmt.format(v)
        if isinstance(v, tuple):
            return "×".join(str(d) for d in v)
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    if ip is None:
        return False
    try:  # Jupyter and Colab kernels (Colab's shell subclasses ipykernel's)
        from ipykernel.zmqshell import ZMQInteractiveShell
    except ImportError:
        return False
    return isinstance(ip, ZMQInteractiveShell)


def show_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Display rows as a Markdown table in a notebook (printed as text elsewhere)."""
    text = format_table(rows, columns)
    if _in_notebook():
        from IPython.display import Markdown, display

        display(Markdown(text))
    else:
        print(text)


def plot_shape_profile(rows: Sequence[Mapping[str, Any]], title: str | None = None, dpi: int = DPI) -> Figure:
    """Draw the "U" of a UNet from :func:`record_shapes` rows: the spatial size (log scale) of each recorded
    output in call order, each point labelled with its channel count."""
    points = [(r["name"], r["output"]) for r in rows if isinstance(r.get("output"), tuple) and len(r["output"]) == 4]
    if not points:
        raise ValueError("rows: expected rows whose 'output' is a 4-D shape (N, C, H, W)")
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * len(points)), 3.0), dpi=dpi)
    sizes = [shape[2] for _, shape in points]
    ax.plot(range(len(points)), sizes, "o-", color="#1f77b4")
    for i, (_, shape) in enumerate(points):
        ax.annotate(f"{shape[1]}ch", (i, shape[2]), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    ax.set_yscale("log", base=2)
    ax.set_xticks(range(len(points)))
    ax.set_xticklabels([n for n, _ in points], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("spatial size H (px)")
    ax.set_ylim(min(sizes) / 1.6, max(sizes) * 1.8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------------------
# Statistics, predictions, losses
# --------------------------------------------------------------------------------------------------------------
def plot_channel_stats(images: Mapping[str, torch.Tensor], max_channels: int = 16, dpi: int = DPI) -> Figure:
    """Per-channel mean and standard deviation of each tensor ([C,H,W] or [N,C,H,W], first sample), as grouped
    bars in two axes (mean, std). Shows what InstanceNorm does: every channel ends at mean 0 and std 1, so
    the colour statistics of the image are gone."""
    fig, (ax_mean, ax_std) = plt.subplots(1, 2, figsize=(8.0, 2.8), dpi=dpi)
    width = 0.8 / max(1, len(images))
    for k, (label, tensor) in enumerate(images.items()):
        t = tensor.detach().float().cpu()
        if t.ndim == 4:
            t = t[0]
        if t.ndim != 3:
            raise ValueError(f"images[{label!r}]: expected [C,H,W] or [N,C,H,W], got shape {tuple(tensor.shape)}")
        t = t[:max_channels].flatten(1)
        xs = np.arange(t.shape[0]) + (k - (len(images) - 1) / 2) * width
        ax_mean.bar(xs, t.mean(1).numpy(), width, label=label)
        ax_std.bar(xs, t.std(1, unbiased=False).numpy(), width, label=label)
    for ax, name in ((ax_mean, "mean"), (ax_std, "std")):
        ax.set_title(f"per-channel {name}", fontsize=9)
        ax.set_xlabel("channel")
        ax.axhline(0, color="0.3", lw=0.6)
    ax_std.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def show_scale_predictions(
    predictions: Mapping[str, Sequence[torch.Tensor]] | Sequence[torch.Tensor],
    target: torch.Tensor | None = None,
    size: float = 1.8,
    dpi: int = DPI,
) -> Figure:
    """One row per model, one column per scale (coarsest first, as MPFNet returns them), plus the target.

    ``predictions``: a list of tensors [N,C,h,w] (one per scale) or a dict row label -> such a list; the first
    sample of each is drawn, at its own resolution (small scales look blocky on purpose).
    """
    rows = predictions if isinstance(predictions, Mapping) else {"prediction": predictions}
    n_scales = max(len(p) for p in rows.values())
    ncols = n_scales + (1 if target is not None else 0)
    fig, axes = plt.subplots(len(rows), ncols, figsize=(size * ncols, size * len(rows)), dpi=dpi, squeeze=False)
    for r, (label, preds) in enumerate(rows.items()):
        for s in range(n_scales):
            ax = axes[r, s]
            ax.set_axis_off()
            if s < len(preds):
                p = preds[s][0] if preds[s].ndim == 4 else preds[s]
                array = to_display(p)
                ax.imshow(array, cmap="gray" if array.ndim == 2 else None, vmin=0.0, vmax=1.0)
                ax.set_title(f"{label}\n{p.shape[-2]}×{p.shape[-1]}", fontsize=8)
        if target is not None:
            ax = axes[r, -1]
            ax.imshow(to_display(target[0] if target.ndim == 4 else target))
            ax.set_title("target", fontsize=8)
            ax.set_axis_off()
    fig.tight_layout()
    return fig


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


# --------------------------------------------------------------------------------------------------------------
# Source code
# --------------------------------------------------------------------------------------------------------------
def source_of(obj: Any) -> str:
    """The source code of a class, function or method of ``course_lib`` (``inspect.getsource``)."""
    try:
        return inspect.getsource(obj)
    except (TypeError, OSError) as error:
        raise ValueError(f"obj: cannot find the source of {obj!r} ({error})") from error


def show_source(obj: Any) -> None:
    """Show the package's own source of ``obj``, syntax-highlighted in a notebook (printed elsewhere), so a
    notebook explains the code that actually runs instead of a pasted copy that could drift from it."""
    text = source_of(obj)
    if _in_notebook():
        from IPython.display import Code, display

        display(Code(text, language="python"))
    else:
        print(text)
