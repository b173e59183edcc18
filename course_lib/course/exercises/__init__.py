"""Automatic checks for the notebooks' exercises, one module per topic (every check is also here, so a notebook
writes ``exercises.check_psnr(psnr)``).

Each ``check_*`` takes the student's attempt (a function or a value), tries it on small probe inputs and compares
it with an independent reference (the course's own code where there is one). It prints what is right or, when
something is wrong, *what* is wrong and how to fix it ("your pool_h has shape (2, 4, 1, 8) but
CoordinateAttention's H-pool is (N, C, H, 1) = (2, 4, 6, 1)"), and returns ``True`` or ``False``. A check never
raises on a wrong or unfinished attempt (a placeholder that raises ``NotImplementedError`` or returns ``None``
gets guidance and ``False``), so a notebook runs top to bottom with the exercises still open.

| module | notebook | check | the student writes |
| --- | --- | --- | --- |
| :mod:`.data` | 00 | :func:`check_to_model_range` | uint8 HxWx3 image -> float tensor 3xHxW in [-1, 1] |
| | 01 | :func:`check_camera_response` | a camera pixel value: sum(R E S) / sum(E S) |
| | 02 | :func:`check_luminance_weights`, :func:`check_to_gray` | BT.601 weights; RGB -> gray on [-1, 1] tensors |
| | 11 | :func:`check_resize_shorter_and_crop` | EPFL's large images -> square crops without distortion |
| :mod:`.attention` | 03 | :func:`check_directional_pools`, :func:`check_coordinate_gates` | its pools and gates |
| :mod:`.mpfnet` | 04 | :func:`check_instance_norm` | InstanceNorm by hand (per image, per channel) |
| | 05 | :func:`check_scale_targets` | the ground-truth pyramid for the 3 scales (Eqs. (2)-(3)) |
| :mod:`.losses` | 06 | :func:`check_mix_loss` | L_mix (Zhao et al., Sec. II.B) |
| | 08 | :func:`check_pretrain_loss` | L_pp of Eq. (2): L_mix summed over the scales |
| :mod:`.gan` | 07 | :func:`check_lsgan_discriminator_loss` | a PatchGAN discriminator's LSGAN loss, Eq. (1) |
| | 09 | :func:`check_feature_gan_losses` | both sides of L_GAN^feat, Eq. (4) |
| :mod:`.evaluation` | 06 | :func:`check_psnr` | PSNR on 8-bit images (Table I) |
| | 10 | :func:`check_improvement` | "better or worse than the full model?" for each metric of Table I |

:mod:`._report` holds what the checks share (the ✅ / ❌ lines, calling an attempt safely). The reference
solutions are in :mod:`course_lib.course.solutions`, for instructors: no notebook imports them, and
``tests/test_exercises*.py`` check that each passes its check.
"""

from .attention import check_coordinate_gates, check_directional_pools
from .data import (BT601, check_camera_response, check_luminance_weights, check_resize_shorter_and_crop,
                   check_to_gray, check_to_model_range)
from .evaluation import HIGHER_IS_BETTER, check_improvement, check_psnr
from .gan import check_feature_gan_losses, check_lsgan_discriminator_loss
from .losses import check_mix_loss, check_pretrain_loss
from .mpfnet import check_instance_norm, check_scale_targets

__all__ = [
    "check_to_model_range",
    "check_camera_response",
    "check_luminance_weights",
    "check_to_gray",
    "check_resize_shorter_and_crop",
    "check_directional_pools",
    "check_coordinate_gates",
    "check_instance_norm",
    "check_scale_targets",
    "check_mix_loss",
    "check_pretrain_loss",
    "check_lsgan_discriminator_loss",
    "check_feature_gan_losses",
    "check_psnr",
    "check_improvement",
    "BT601",
    "HIGHER_IS_BETTER",
]
