"""Images and dataset items: tensors to pictures, image rows, what each method makes of an item, material maps.

Conventions of every figure helper in :mod:`course_lib.course.figures`:

- image tensors are float in [-1, 1] (CHW, 1HW, HW or a batch NCHW), as everywhere in ``course_lib``;
  numpy ``uint8`` arrays are 0..255 (HxW or HxWx3) and numpy float arrays are taken to be in [0, 1];
- every plotting function returns the :class:`matplotlib.figure.Figure` it drew (assign it, ``fig = ...``,
  so Jupyter shows it once);
- figures are small (``dpi=80`` by default, :data:`DPI`) so the notebooks stay fast.

:func:`to_display` and the grid helper here are what the other figure modules draw images with.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patches
from matplotlib.figure import Figure

__all__ = ["DPI", "to_display", "show_images", "show_colorizations", "show_item", "show_material_map"]

DPI = 80


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
    from course_lib.data import to_gray  # imported here: the figures import without the data layer

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
