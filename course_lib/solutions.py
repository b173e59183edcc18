"""Reference solutions of the notebooks' exercises (for instructors).

Each function here passes the matching check in :mod:`course_lib.exercises`; the notebooks assert it
(``assert check_x(solutions.x)``), so the solutions are tested every time the course runs. Students: try the
exercise first, the checks tell you what is wrong.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "to_model_range",
    "camera_response",
    "LUMINANCE_WEIGHTS",
    "to_gray",
    "directional_pools",
    "instance_norm",
    "scale_targets",
    "psnr",
    "mix_loss",
]


def to_model_range(image: np.ndarray) -> torch.Tensor:
    """00: a uint8 HxWx3 image -> float tensor [3, H, W] in [-1, 1] (0 -> -1, 255 -> 1)."""
    return torch.from_numpy(np.asarray(image)).permute(2, 0, 1).float() / 127.5 - 1.0


def camera_response(reflectance: np.ndarray, illuminant: np.ndarray, sensitivity: np.ndarray) -> float:
    """01: the pixel value of a surface R under light E seen by a sensor S, normalised so white reads 1."""
    light = illuminant * sensitivity
    return float(np.sum(reflectance * light) / np.sum(light))


LUMINANCE_WEIGHTS = (0.299, 0.587, 0.114)
"""02: ITU-R BT.601 luma weights (R, G, B), as PIL's "L" mode."""


def to_gray(rgb: torch.Tensor) -> torch.Tensor:
    """02: [..., 3, H, W] in [-1, 1] -> [..., 1, H, W]; linear, so the weights hold in [-1, 1] too."""
    weights = torch.tensor(LUMINANCE_WEIGHTS, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
    return (rgb * weights).sum(dim=-3, keepdim=True)


def directional_pools(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """03: coordinate attention's pools: average over W (one value per row) and over H (one per column)."""
    return x.mean(dim=3, keepdim=True), x.mean(dim=2, keepdim=True)


def instance_norm(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """04: normalise each (image, channel) by its own spatial mean and biased standard deviation."""
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def scale_targets(target: torch.Tensor, scales: int = 3) -> list[torch.Tensor]:
    """05: the ground truth at each scale, coarsest first (H/4, H/2, H for 3 scales)."""
    h, w = target.shape[-2:]
    out = []
    for s in range(scales):
        factor = 2 ** (scales - 1 - s)
        out.append(target if factor == 1 else F.interpolate(target, size=(h // factor, w // factor), mode="area"))
    return out


def psnr(prediction: np.ndarray, target: np.ndarray) -> float:
    """06: PSNR in dB of uint8 images, data range 255 (computed in float: uint8 differences wrap around)."""
    mse = float(np.mean((prediction.astype(np.float64) - target.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def mix_loss(prediction: torch.Tensor, target: torch.Tensor, alpha: float = 0.84) -> torch.Tensor:
    """06: L_mix = alpha (1 - SSIM) + (1 - alpha) L1, both on images mapped to [0, 1]."""
    from course_lib.losses import ssim

    l1 = ((prediction - target) / 2).abs().mean()
    return alpha * (1 - ssim(prediction, target)) + (1 - alpha) * l1
