"""Reference solutions of the notebooks' exercises, for instructors; no notebook imports this module.

Grouped by topic like :mod:`course_lib.course.exercises`, each function passes the matching check there:
``python -m pytest tests/test_exercises.py tests/test_exercises_training.py`` asserts it, or, in a scratch cell,
``from course_lib.course import exercises, solutions; exercises.check_psnr(solutions.psnr)``. Students: try
the exercise first, the checks tell you what is wrong.
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
    "resize_shorter_and_crop",
    "directional_pools",
    "instance_norm",
    "scale_targets",
    "mix_loss",
    "pretrain_loss",
    "lsgan_discriminator_loss",
    "feature_gan_losses",
    "psnr",
    "improvement",
]


# --------------------------------------------------------------------------------------------------------------
# data: images, cameras, the gray domain, crops (course_lib.course.exercises.data)
# --------------------------------------------------------------------------------------------------------------
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


def resize_shorter_and_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """11: scale a [C, H, W] image so its shorter side is ``size`` (aspect kept), then take the central square."""
    height, width = image.shape[-2:]
    scale = size / min(height, width)
    new_h, new_w = max(size, round(height * scale)), max(size, round(width * scale))
    resized = F.interpolate(image[None], size=(new_h, new_w), mode="bilinear", align_corners=False,
                            antialias=True)[0]
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return resized[:, top:top + size, left:left + size]


# --------------------------------------------------------------------------------------------------------------
# attention: coordinate attention (course_lib.course.exercises.attention)
# --------------------------------------------------------------------------------------------------------------
def directional_pools(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """03: coordinate attention's pools: average over W (one value per row) and over H (one per column)."""
    return x.mean(dim=3, keepdim=True), x.mean(dim=2, keepdim=True)


# --------------------------------------------------------------------------------------------------------------
# mpfnet: InstanceNorm, the scales' targets (course_lib.course.exercises.mpfnet)
# --------------------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------------------
# losses: L_mix, L_pp (course_lib.course.exercises.losses)
# --------------------------------------------------------------------------------------------------------------
def mix_loss(prediction: torch.Tensor, target: torch.Tensor, alpha: float = 0.84) -> torch.Tensor:
    """06: L_mix = alpha (1 - SSIM) + (1 - alpha) L1, both on images mapped to [0, 1]."""
    from course_lib.losses import ssim

    l1 = ((prediction - target) / 2).abs().mean()
    return alpha * (1 - ssim(prediction, target)) + (1 - alpha) * l1


def pretrain_loss(predictions: list[torch.Tensor], target: torch.Tensor, alpha: float = 0.84) -> torch.Tensor:
    """08: L_pp of Eq. (2): L_mix of each scale's prediction against the target downscaled (area) to its size,
    summed over the scales."""
    from course_lib.losses import mix_loss

    total = 0
    for prediction in predictions:
        scaled = target if prediction.shape[-2:] == target.shape[-2:] else F.interpolate(
            target, size=prediction.shape[-2:], mode="area")
        total = total + mix_loss(prediction, scaled, alpha=alpha)
    return total


# --------------------------------------------------------------------------------------------------------------
# gan: the discriminators' losses (course_lib.course.exercises.gan)
# --------------------------------------------------------------------------------------------------------------
def lsgan_discriminator_loss(scores_real: torch.Tensor, scores_fake: torch.Tensor) -> torch.Tensor:
    """07: a PatchGAN's least-squares loss (Eq. (1)'s GAN terms, D side): real patches towards 1, fakes towards
    0, each averaged over batch and patch map; halved as in CycleGAN."""
    return 0.5 * (((scores_real - 1) ** 2).mean() + (scores_fake ** 2).mean())


def feature_gan_losses(d_feat: torch.nn.Module, fake: torch.Tensor,
                       real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """09: both sides of L_GAN^feat (Eq. (4), LSGAN form). Generators: their output should be judged real.
    D_G^feat: real towards 1, the *detached* fake towards 0 (its update must not train the generators)."""
    loss_generator = ((d_feat(fake) - 1) ** 2).mean()
    loss_discriminator = 0.5 * (((d_feat(real) - 1) ** 2).mean() + (d_feat(fake.detach()) ** 2).mean())
    return loss_generator, loss_discriminator


# --------------------------------------------------------------------------------------------------------------
# evaluation: PSNR, better or worse (course_lib.course.exercises.evaluation)
# --------------------------------------------------------------------------------------------------------------
def psnr(prediction: np.ndarray, target: np.ndarray) -> float:
    """06: PSNR in dB of uint8 images, data range 255 (computed in float: uint8 differences wrap around)."""
    mse = float(np.mean((prediction.astype(np.float64) - target.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def improvement(metric: str, value: float, reference: float) -> float:
    """10: how much better ``value`` is than ``reference`` (positive = better): PSNR, SSIM higher is better;
    AE, LPIPS lower is better."""
    higher_is_better = {"psnr": True, "ssim": True, "ae": False, "lpips": False}
    if metric not in higher_is_better:
        raise ValueError(f"metric: expected one of {sorted(higher_is_better)}, got {metric!r}")
    return value - reference if higher_is_better[metric] else reference - value
