"""Paired transforms: the paper's augmentation (Section III.A) and deterministic evaluation resizing.

Every transform takes an item dict (``"nir"`` [1,H,W], ``"rgb"`` [3,H,W], optional ``"material"`` [H,W] and
any other keys) and returns a new dict with the *same* geometric and photometric change applied to every image
of the pair, so NIR and RGB stay registered (the material map is resampled nearest-neighbour, never blended).

- :class:`PairAugment`: random scaling + random crop back to the training size, horizontal mirroring, contrast
  jitter ("We employed data augmentation by scaling, mirroring, random size cropping, and contrast adjustment").
- :class:`Resize`: shorter side to ``size``, centre crop to ``size`` x ``size`` (evaluation, any input size).
- :class:`CenterCrop`: the central ``size`` x ``size`` window (evaluation without resampling).
- :func:`to_gray`: ITU-R BT.601 luminance, the grayscale domain X_G of the paper.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["to_gray", "PairAugment", "Resize", "CenterCrop", "BT601_WEIGHTS"]

#: ITU-R BT.601 luma weights (as PIL's "L" conversion) for R, G, B.
BT601_WEIGHTS = (0.299, 0.587, 0.114)
_IMAGE_KEYS = ("nir", "rgb", "gray")


def to_gray(rgb: torch.Tensor) -> torch.Tensor:
    """Grayscale (ITU-R BT.601 luminance) of RGB images: [..., 3, H, W] -> [..., 1, H, W].

    The paper's grayscale domain X_G (Fig. 1). The weights sum to 1, so the same linear map holds on [0, 1] and
    on [-1, 1] images: a [-1, 1] input gives the [-1, 1] version of the [0, 1] luminance.
    """
    if not isinstance(rgb, torch.Tensor):
        raise ValueError(f"rgb must be a torch.Tensor [..., 3, H, W], got {type(rgb).__name__}")
    if rgb.dim() < 3 or rgb.shape[-3] != 3:
        raise ValueError(f"rgb must have shape [..., 3, H, W], got {tuple(rgb.shape)}")
    w = torch.tensor(BT601_WEIGHTS, dtype=rgb.dtype if rgb.is_floating_point() else torch.float32, device=rgb.device)
    return (rgb * w.view(3, 1, 1)).sum(dim=-3, keepdim=True)


def _check_item(item: Any, who: str) -> tuple[int, int]:
    if not isinstance(item, dict) or not any(k in item for k in _IMAGE_KEYS):
        raise ValueError(f"{who} expects an item dict with 'nir', 'rgb' and/or 'gray' tensors, got "
                         f"{type(item).__name__}")
    sizes = {k: tuple(item[k].shape[-2:]) for k in (*_IMAGE_KEYS, "material") if k in item}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"{who}: the images of item {item.get('name', '?')!r} differ in size: {sizes}")
    return next(iter(sizes.values()))


def _resample(item: dict, top: int, left: int, height: int, width: int, size: int, flip: bool = False,
              contrast: float = 1.0) -> dict:
    """Crop the window (top, left, height, width) from every image, resize it to size x size, mirror, scale
    contrast around mid-grey (0 in [-1, 1]) -- the same operations on every image of the pair."""
    out = dict(item)
    for key in (*_IMAGE_KEYS, "material"):
        if key not in item:
            continue
        x = item[key]
        if key == "material":
            x = x[..., top:top + height, left:left + width]
            if (height, width) != (size, size):
                x = F.interpolate(x[None, None].float(), size=(size, size), mode="nearest")[0, 0].to(item[key].dtype)
        else:
            x = x[..., top:top + height, left:left + width].float()
            if (height, width) != (size, size):
                # Bilinear resampling is linear, so relations such as nir == gray(rgb) survive it.
                x = F.interpolate(x[None], size=(size, size), mode="bilinear", align_corners=False,
                                  antialias=height > size or width > size)[0]
            if contrast != 1.0:
                x = x * contrast
            x = x.clamp(-1.0, 1.0)
        if flip:
            x = x.flip(-1)
        out[key] = x.contiguous()
    return out


class PairAugment:
    """The paper's augmentation, identical on both images of a pair (Section III.A).

    1. random scaling: a factor ``s`` uniform in ``scale``; the crop window is a square ``1/s`` of the shorter
       side (so ``s`` = 1.3 zooms in by 1.3x), at a random position -- a random-size crop;
    2. the window is resized back to ``size`` x ``size`` (bilinear with antialiasing for images; nearest for the
       material map). Inputs of any size work: larger images are scaled down, smaller ones up;
    3. horizontal mirroring with probability 1/2 when ``flip``;
    4. contrast jitter: every image multiplied by ``c`` uniform in [1 - contrast, 1 + contrast] around mid-grey
       (0 in [-1, 1]) and clamped to [-1, 1]; the same ``c`` for NIR and RGB, so gray(rgb) and nir keep their
       relation.

    ``window``: None (the paper's reading) takes the window from the whole image (``1/s`` of its shorter side), so
    a large image is scaled down to ``size``; an integer takes a ``window / s`` px square at the stored scale
    (``window=size``: crops that keep the stored resolution, zoomed in by ``s``), so the network trains at the
    scale it is evaluated at and every part of the image is seen over the epochs.

    Call it on an item dict; pass a ``torch.Generator`` for reproducible draws (default: torch's global RNG, which
    DataLoader seeds per worker).
    """

    def __init__(self, size: int, scale: tuple[float, float] = (1.0, 1.3), flip: bool = True,
                 contrast: float = 0.2, window: int | None = None):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be a positive integer, got {size!r}")
        if len(scale) != 2 or not 0 < scale[0] <= scale[1]:
            raise ValueError(f"scale must be (low, high) with 0 < low <= high, got {scale!r}")
        if not 0 <= contrast < 1:
            raise ValueError(f"contrast must be in [0, 1), got {contrast!r}")
        if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
            raise ValueError(f"window must be None or a positive integer, got {window!r}")
        self.size, self.scale, self.flip, self.contrast = size, (float(scale[0]), float(scale[1])), flip, contrast
        self.window = window

    def __call__(self, item: dict, generator: torch.Generator | None = None) -> dict:
        h, w = _check_item(item, "PairAugment")

        def uniform(lo: float, hi: float) -> float:
            return lo + (hi - lo) * float(torch.rand((), generator=generator))

        s = uniform(*self.scale)
        side = max(1, min(h, w, round((min(h, w) if self.window is None else self.window) / s)))
        top = int(torch.randint(0, h - side + 1, (), generator=generator))
        left = int(torch.randint(0, w - side + 1, (), generator=generator))
        flip = self.flip and bool(torch.rand((), generator=generator) < 0.5)
        c = uniform(1.0 - self.contrast, 1.0 + self.contrast)
        return _resample(item, top, left, side, side, self.size, flip=flip, contrast=c)

    def __repr__(self) -> str:
        return (f"PairAugment(size={self.size}, scale={self.scale}, flip={self.flip}, contrast={self.contrast}"
                + (f", window={self.window})" if self.window is not None else ")"))


class Resize:
    """Deterministic evaluation transform: scale so the shorter side is ``size``, then crop the centre square.

    Every output is ``size`` x ``size`` whatever the input size or aspect ratio (so batches stack).
    """

    def __init__(self, size: int):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be a positive integer, got {size!r}")
        self.size = size

    def __call__(self, item: dict, generator: torch.Generator | None = None) -> dict:
        h, w = _check_item(item, "Resize")
        side = min(h, w)
        return _resample(item, (h - side) // 2, (w - side) // 2, side, side, self.size)

    def __repr__(self) -> str:
        return f"Resize({self.size})"


class CenterCrop:
    """Deterministic evaluation transform: the central ``size`` x ``size`` window, no resampling.

    Raises ValueError naming the item when the image is smaller than ``size``.
    """

    def __init__(self, size: int):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be a positive integer, got {size!r}")
        self.size = size

    def __call__(self, item: dict, generator: torch.Generator | None = None) -> dict:
        h, w = _check_item(item, "CenterCrop")
        if h < self.size or w < self.size:
            raise ValueError(f"CenterCrop({self.size}): image {item.get('name', '?')!r} is only {h}x{w}; "
                             f"expected at least {self.size}x{self.size} (use Resize to scale it up)")
        return _resample(item, (h - self.size) // 2, (w - self.size) // 2, self.size, self.size, self.size)

    def __repr__(self) -> str:
        return f"CenterCrop({self.size})"
