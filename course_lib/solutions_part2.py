"""Reference solutions of the exercises of notebooks 07-11 (for instructors).

Each function passes the matching check in :mod:`course_lib.exercises_part2`; the notebooks assert it, so the
solutions are tested every time the course runs. Students: try the exercise first, the checks tell you what is
wrong.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "lsgan_discriminator_loss",
    "pretrain_loss",
    "feature_gan_losses",
    "improvement",
    "resize_shorter_and_crop",
]


def lsgan_discriminator_loss(scores_real: torch.Tensor, scores_fake: torch.Tensor) -> torch.Tensor:
    """07: a PatchGAN's least-squares loss (Eq. (1)'s GAN terms, D side): real patches towards 1, fakes towards
    0, each averaged over batch and patch map; halved as in CycleGAN."""
    return 0.5 * (((scores_real - 1) ** 2).mean() + (scores_fake ** 2).mean())


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


def feature_gan_losses(d_feat: torch.nn.Module, fake: torch.Tensor,
                       real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """09: both sides of L_GAN^feat (Eq. (4), LSGAN form). Generators: their output should be judged real.
    D_G^feat: real towards 1, the *detached* fake towards 0 (its update must not train the generators)."""
    loss_generator = ((d_feat(fake) - 1) ** 2).mean()
    loss_discriminator = 0.5 * (((d_feat(real) - 1) ** 2).mean() + (d_feat(fake.detach()) ** 2).mean())
    return loss_generator, loss_discriminator


def improvement(metric: str, value: float, reference: float) -> float:
    """10: how much better ``value`` is than ``reference`` (positive = better): PSNR, SSIM higher is better;
    AE, LPIPS lower is better."""
    higher_is_better = {"psnr": True, "ssim": True, "ae": False, "lpips": False}
    if metric not in higher_is_better:
        raise ValueError(f"metric: expected one of {sorted(higher_is_better)}, got {metric!r}")
    return value - reference if higher_is_better[metric] else reference - value


def resize_shorter_and_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """11: scale a [C, H, W] image so its shorter side is ``size`` (aspect kept), then take the central square."""
    height, width = image.shape[-2:]
    scale = size / min(height, width)
    new_h, new_w = max(size, round(height * scale)), max(size, round(width * scale))
    resized = F.interpolate(image[None], size=(new_h, new_w), mode="bilinear", align_corners=False,
                            antialias=True)[0]
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return resized[:, top:top + size, left:left + size]
