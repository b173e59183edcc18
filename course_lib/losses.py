"""Losses of MPFNet (Section II.B of the paper), on model-space tensors NCHW in [-1, 1].

* Colorization losses: ``mix_loss`` is L_mix of Zhao et al. 2016 (the paper's [26]),
  ``alpha * (1 - MS-SSIM) + (1 - alpha) * L1``; ``multiscale_mix_loss`` sums it over the scales of the
  progressive decoder, which is L_pp (Eq. (2)) or L_pf (Eq. (3)) depending on the input.
* Domain-translation losses of Eq. (1) (CycleGAN [16]): ``lsgan_loss`` for the GAN terms (also used for the
  feature GAN term of Eq. (4)), ``cycle_loss`` and ``identity_loss``; their weights live in ``LossWeights``.
* ``ssim`` / ``ms_ssim``: differentiable SSIM (Wang et al. 2004) and MS-SSIM (Wang et al. 2003). ``ssim``
  reproduces scikit-image's ``structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=1)`` on the images mapped to [0, 1], channel by channel.

Every function takes tensors in [-1, 1] and returns a differentiable scalar tensor. The SSIM family is computed
in float32 even under autocast (the constants C1 = 1e-4, C2 = 9e-4 underflow in float16).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "ssim",
    "ms_ssim",
    "mix_loss",
    "multiscale_mix_loss",
    "chroma_loss",
    "colourfulness_loss",
    "colourfulness_map",
    "lsgan_loss",
    "discriminator_loss",
    "cycle_loss",
    "identity_loss",
    "LossWeights",
    "SSIM_SIGMA",
    "SSIM_WINDOW",
    "MS_SSIM_WEIGHTS",
    "MS_SSIM_MIN_SIZE",
    "range_checks",
]

# --- SSIM constants (Wang et al. 2004; scikit-image's gaussian_weights=True settings) -------------------------
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5  # scipy.ndimage's truncation used by scikit-image: radius int(3.5 * 1.5 + 0.5) = 5
SSIM_RADIUS = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)
SSIM_WINDOW = 2 * SSIM_RADIUS + 1  # 11 x 11 Gaussian window
SSIM_K1, SSIM_K2 = 0.01, 0.03

# --- MS-SSIM (Wang, Simoncelli and Bovik 2003): 5 scales, weights from their Table / paper -------------------
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
#: Smallest image side for MS-SSIM: after 4 halvings the coarsest scale must still hold one full 11 x 11 window
#: (11 * 2**4 = 176 px). Smaller images (e.g. the 1/4 and 1/2 scale outputs at 256 px, every scale at 64 px)
#: fall back to single-scale SSIM.
MS_SSIM_MIN_SIZE = SSIM_WINDOW * 2 ** (len(MS_SSIM_WEIGHTS) - 1)
#: Floor for the per-scale contrast-structure (and last-scale SSIM) values before they are raised to the
#: fractional MS-SSIM weights: x**w has an infinite slope at 0 and is undefined for x < 0 (cs can be negative
#: for anti-correlated images), so we clamp to this small positive value to keep gradients finite.
MS_SSIM_CLAMP = 1e-6

_RANGE_TOLERANCE = 1e-3  # float16 / resampling round-off allowed beyond [-1, 1]
_RANGE_CHECKS = [True]   # see range_checks()


@contextlib.contextmanager
def range_checks(enabled: bool):
    """Turn the losses' value-range check on or off inside a ``with`` block (it is on by default).

    Checking that an image lies in [-1, 1] needs its minimum and maximum on the host: on a GPU every check waits
    for the device (about 18 such waits per fine-tuning step). The training stages therefore switch it off in
    their hot loop, where the inputs are the data (checked once at the data boundary, on the CPU) and network
    outputs (bounded by tanh); calls from anywhere else (tests, notebooks, student code) keep the check. Shape
    and dtype checks stay on: they read no tensor values.
    """
    previous = _RANGE_CHECKS[0]
    _RANGE_CHECKS[0] = bool(enabled)
    try:
        yield
    finally:
        _RANGE_CHECKS[0] = previous


# ------------------------------------------------------------------------------------------------------------
# input checks
# ------------------------------------------------------------------------------------------------------------
def _check_image(x: torch.Tensor, name: str, check_range: bool = True) -> None:
    """Raise ValueError (naming ``name``) unless ``x`` is a float NCHW tensor in [-1, 1]."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name}: expected a torch.Tensor (N, C, H, W) in [-1, 1], got {type(x).__name__}")
    if not torch.is_floating_point(x):
        raise ValueError(
            f"{name}: expected a floating-point tensor in [-1, 1], got dtype {x.dtype} "
            "(convert uint8 images with x.float() / 127.5 - 1)"
        )
    if x.dim() != 4:
        raise ValueError(f"{name}: expected a 4-D tensor (N, C, H, W), got shape {tuple(x.shape)}")
    if check_range and _RANGE_CHECKS[0]:
        check_value_range(x, name)


def check_value_range(x: torch.Tensor, name: str) -> None:
    """ValueError naming ``name`` unless every value of ``x`` is finite and in [-1, 1] (up to a float16 /
    resampling round-off of 1e-3). One host sync (min and max together). The losses and the metrics share it."""
    if x.numel() == 0:
        return
    with torch.no_grad():
        lo, hi = torch.aminmax(x.detach())
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name}: contains NaN or inf values")
    if lo < -1 - _RANGE_TOLERANCE or hi > 1 + _RANGE_TOLERANCE:
        raise ValueError(f"{name}: expected values in [-1, 1], got range [{lo:.4g}, {hi:.4g}]")


def _check_pair(x: torch.Tensor, y: torch.Tensor, names: tuple[str, str]) -> None:
    _check_image(x, names[0])
    _check_image(y, names[1])
    if x.shape != y.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )


# ------------------------------------------------------------------------------------------------------------
# SSIM / MS-SSIM
# ------------------------------------------------------------------------------------------------------------
def _gaussian_kernel1d(device: torch.device) -> torch.Tensor:
    """The normalized 11-tap Gaussian of scipy.ndimage.gaussian_filter (sigma 1.5, truncate 3.5)."""
    t = torch.arange(-SSIM_RADIUS, SSIM_RADIUS + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / SSIM_SIGMA) ** 2)
    return (k / k.sum()).to(device=device, dtype=torch.float32)


def _blur_valid(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter keeping only the 'valid' part.

    scikit-image filters the whole image (reflect padding) and then crops ``(win_size - 1) // 2`` pixels from each
    border before averaging; the cropped pixels are exactly those whose window touches the padding, so a valid
    convolution gives the same numbers without padding at all.
    """
    c = x.shape[1]
    kh = kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1)
    kw = kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1)
    return F.conv2d(F.conv2d(x, kh, groups=c), kw, groups=c)


def _ssim_terms(x01: torch.Tensor, y01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image, per-channel mean SSIM and mean contrast-structure term (both shape (N, C)), data range 1."""
    if min(x01.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(
            f"images must be at least {SSIM_WINDOW} x {SSIM_WINDOW} pixels for SSIM (11 x 11 Gaussian window), "
            f"got {tuple(x01.shape[-2:])}"
        )
    # autocast would run the convolutions in float16/bfloat16, where C1 = 1e-4 and the variances lose precision
    with torch.autocast(device_type=x01.device.type, enabled=False):
        return _ssim_terms_fp32(x01.float(), y01.float())


def _ssim_terms_fp32(x01: torch.Tensor, y01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    kernel = _gaussian_kernel1d(x01.device)
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    mu_x, mu_y = _blur_valid(x01, kernel), _blur_valid(y01, kernel)
    # population (co)variances, as use_sample_covariance=False
    var_x = _blur_valid(x01 * x01, kernel) - mu_x * mu_x
    var_y = _blur_valid(y01 * y01, kernel) - mu_y * mu_y
    cov_xy = _blur_valid(x01 * y01, kernel) - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
    contrast_structure = (2 * cov_xy + c2) / (var_x + var_y + c2)
    ssim_map = luminance * contrast_structure
    return ssim_map.mean(dim=(-2, -1)), contrast_structure.mean(dim=(-2, -1))


def _to_unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], in float32 (SSIM constants are too small for float16)."""
    return (x.float() + 1.0) * 0.5


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Differentiable SSIM (Wang et al. 2004) of two image batches in [-1, 1], averaged over images and channels.

    Equals scikit-image's ``structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1, channel_axis=...)`` with ``a, b`` the images mapped to [0, 1]:
    11 x 11 Gaussian window (sigma 1.5 truncated at 3.5 sigma), K1 = 0.01, K2 = 0.03, and the 5-pixel border
    (where the window leaves the image) excluded from the mean. Images must be at least 11 px on each side.

    Args:
        x, y: tensors (N, C, H, W) in [-1, 1], same shape.
    Returns:
        scalar tensor, 1 for identical images.
    """
    _check_pair(x, y, ("x", "y"))
    return _ssim_terms(_to_unit(x), _to_unit(y))[0].mean()


def _ms_ssim_per_channel(x01: torch.Tensor, y01: torch.Tensor) -> torch.Tensor:
    """MS-SSIM per (image, channel), shape (N, C), on [0, 1] images of side >= MS_SSIM_MIN_SIZE."""
    weights = torch.tensor(MS_SSIM_WEIGHTS, dtype=x01.dtype, device=x01.device)
    factors = []
    for scale in range(len(MS_SSIM_WEIGHTS)):
        ssim_val, cs_val = _ssim_terms(x01, y01)
        if scale < len(MS_SSIM_WEIGHTS) - 1:
            factors.append(cs_val)  # contrast-structure only at the finer scales
            x01, y01 = F.avg_pool2d(x01, 2), F.avg_pool2d(y01, 2)
        else:
            factors.append(ssim_val)  # luminance x contrast-structure at the coarsest scale
    stacked = torch.stack(factors, dim=-1).clamp(min=MS_SSIM_CLAMP)  # see MS_SSIM_CLAMP
    return torch.prod(stacked**weights, dim=-1)


def ms_ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Differentiable MS-SSIM (Wang, Simoncelli and Bovik 2003) of two batches in [-1, 1], mean over images/channels.

    Five scales with weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333), 2 x 2 average pooling between scales;
    the contrast-structure term (mean over the valid part of the image) at the four finer scales and the full SSIM
    (luminance x contrast-structure) at the coarsest; each SSIM is the one of :func:`ssim`. Each per-scale value is
    clamped to at least ``MS_SSIM_CLAMP`` (1e-6) before the fractional power, so anti-correlated images (negative
    contrast-structure) give a small positive value and finite gradients instead of NaN.

    Images smaller than ``MS_SSIM_MIN_SIZE`` (176 px: the coarsest of five scales must still fit one 11 x 11
    window) are scored with single-scale :func:`ssim` instead; at 64 px, for instance, the 1/16 scale would be
    4 px. This happens for all scales of the 64 px smoke profile and for the coarse outputs at 256 px.

    Args:
        x, y: tensors (N, C, H, W) in [-1, 1], same shape, at least 11 px per side.
    Returns:
        scalar tensor, 1 for identical images.
    """
    _check_pair(x, y, ("x", "y"))
    x01, y01 = _to_unit(x), _to_unit(y)
    if min(x.shape[-2:]) < MS_SSIM_MIN_SIZE:
        return _ssim_terms(x01, y01)[0].mean()
    return _ms_ssim_per_channel(x01, y01).mean()


# ------------------------------------------------------------------------------------------------------------
# Colorization losses: L_mix, Eqs. (2)/(3)
# ------------------------------------------------------------------------------------------------------------
def mix_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float = 0.84) -> torch.Tensor:
    """L_mix of Zhao et al. 2016 (the paper's [26]): ``alpha * (1 - MS-SSIM) + (1 - alpha) * L1``.

    Both terms are computed on the images mapped to [0, 1] (so the L1 term is half the L1 distance in [-1, 1]).
    MS-SSIM falls back to single-scale SSIM below ``MS_SSIM_MIN_SIZE`` (176 px), see :func:`ms_ssim`. Zhao et al.
    weight the L1 term with the Gaussian of the coarsest MS-SSIM scale; like most re-implementations (and the
    paper, which gives no detail) we use the plain mean absolute error.

    Args:
        pred, target: tensors (N, C, H, W) in [-1, 1], same shape.
        alpha: weight of the (MS-)SSIM term, 0.84 as in Zhao et al.
    Returns:
        scalar tensor, 0 for identical images.
    """
    _check_pair(pred, target, ("pred", "target"))
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha: expected a weight in [0, 1], got {alpha}")
    p01, t01 = _to_unit(pred), _to_unit(target)
    if min(pred.shape[-2:]) >= MS_SSIM_MIN_SIZE:
        similarity = _ms_ssim_per_channel(p01, t01).mean()
    else:
        similarity = _ssim_terms(p01, t01)[0].mean()
    l1 = (p01 - t01).abs().mean()
    return alpha * (1.0 - similarity) + (1.0 - alpha) * l1


#: ITU-R BT.601 luminance weights (as ``course_lib.data.to_gray``), for the chroma term below.
_LUMA = (0.299, 0.587, 0.114)


def chroma_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the chroma of two RGB images: ``mean |(p - Y(p)) - (t - Y(t))|`` on [0, 1]
    images, with Y the BT.601 luminance. Zero for any two images that differ by a gray offset; blind to
    luminance. Not in the paper: the optional ``chroma`` term of :func:`multiscale_mix_loss` (see there).

    Args:
        pred, target: tensors (N, 3, H, W) in [-1, 1], same shape.
    """
    _check_pair(pred, target, ("pred", "target"))
    if pred.shape[1] != 3:
        raise ValueError(f"chroma_loss: expected RGB tensors (N, 3, H, W), got {tuple(pred.shape)}")
    w = torch.tensor(_LUMA, dtype=pred.dtype, device=pred.device).view(1, 3, 1, 1)
    diff = (pred - target) / 2.0                      # the difference of the [0, 1] images
    return (diff - (diff * w).sum(dim=1, keepdim=True)).abs().mean()


def colourfulness_map(images: torch.Tensor) -> torch.Tensor:
    """Differentiable colourfulness M of Hasler & Süsstrunk (2003) of each image, on the [0, 1] scale (the 8-bit
    figure of ``course_lib.metrics.colourfulness`` divided by 255): with rg = R - G and yb = (R + G) / 2 - B over
    the pixels, ``sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)``. Returns a tensor (N,).

    Args:
        images: tensor (N, 3, H, W) in [-1, 1].
    """
    x = (images.float() + 1.0) / 2.0
    rg = (x[:, 0] - x[:, 1]).flatten(1)
    yb = (0.5 * (x[:, 0] + x[:, 1]) - x[:, 2]).flatten(1)
    eps = 1e-12   # keeps the square roots differentiable at a gray image (their gradient there is 0)
    spread = (rg.var(dim=1, unbiased=False) + yb.var(dim=1, unbiased=False) + eps).sqrt()
    centre = (rg.mean(dim=1) ** 2 + yb.mean(dim=1) ** 2 + eps).sqrt()
    return spread + 0.3 * centre


def colourfulness_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``|M(pred) - M(target)|``, M the colourfulness of Hasler & Süsstrunk on the [0, 1]
    scale (:func:`colourfulness_map`; 29.3 / 255 = 0.115 for VCIP 2020's validation photos). Not in the paper.

    The term answers what L1 and SSIM cannot: where the input leaves a pixel's colour open, their best answer is
    the median or mean hue, close to gray, so a colouriser trained on them alone is far less colourful than its
    targets (``benchmarks/results/vcip_cpu/probe_chroma.md``). DDColor (Kang et al., ICCV 2023) adds a
    colourfulness loss, ``1 - M / 100``, that rewards colour without limit; here the pair's own photo sets how
    much colour is right, so a prediction as colourful as its target costs nothing and one more colourful is
    pushed back. It says nothing about *which* hue: that is still L_mix's job.

    Args:
        pred, target: tensors (N, 3, H, W) in [-1, 1], same shape.
    """
    _check_pair(pred, target, ("pred", "target"))
    if pred.shape[1] != 3:
        raise ValueError(f"colourfulness_loss: expected RGB tensors (N, 3, H, W), got {tuple(pred.shape)}")
    return (colourfulness_map(pred) - colourfulness_map(target)).abs().mean()


def resize_target(target: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Downscale ``target`` (N, C, H, W) to ``size`` by area averaging (each output pixel is the mean of the input
    pixels it covers: exact 2 x 2 box averages for the halvings of the pyramid, no aliasing, no overshoot)."""
    if tuple(target.shape[-2:]) == tuple(size):
        return target
    if size[0] > target.shape[-2] or size[1] > target.shape[-1]:
        raise ValueError(
            f"predictions: each prediction must be at most the target's size {tuple(target.shape[-2:])}, "
            f"got {tuple(size)}"
        )
    return F.interpolate(target, size=tuple(size), mode="area")


def multiscale_mix_loss(
    predictions: Sequence[torch.Tensor] | torch.Tensor, target: torch.Tensor, alpha: float = 0.84,
    chroma: float = 0.0, colour_match: float = 0.0,
) -> torch.Tensor:
    """Multi-scale colorization loss, Eq. (2) (L_pp) / Eq. (3) (L_pf): ``sum_s L_mix(Y^s, F_G^s(X))``.

    Each prediction (the model returns them coarsest first, e.g. H/4, H/2, H) is compared with the target
    resized to that prediction's size by area averaging (:func:`resize_target`). The terms are summed, not
    averaged, as in the equations.

    Args:
        predictions: list/tuple of tensors (N, C, h_s, w_s) in [-1, 1] (a single tensor is one scale).
        target: tensor (N, C, H, W) in [-1, 1], at least as large as every prediction.
        alpha: L_mix weight, see :func:`mix_loss`.
        chroma: weight of an extra :func:`chroma_loss` term at every scale (RGB targets only); 0 (the default,
            every profile) is the paper's loss. An experiment, not a recipe: measured on VCIP 2020 it lowers the
            angular error a little and makes the output *less* colourful, as an L1 loss on uncertain colour
            should (the median hue of a gray pixel is near gray): ``benchmarks/results/vcip_cpu/probe_chroma.md``.
        colour_match: weight of an extra :func:`colourfulness_loss` term at every scale (RGB targets only): the
            prediction's colourfulness pulled to its target's. 0 (the default) is the paper's loss.
    Returns:
        scalar tensor.
    """
    if float(chroma) < 0.0:
        raise ValueError(f"chroma: expected a weight >= 0, got {chroma}")
    if not float(colour_match) >= 0.0:
        raise ValueError(f"colour_match: expected a weight >= 0, got {colour_match}")
    if isinstance(predictions, torch.Tensor):
        predictions = [predictions]
    if not isinstance(predictions, (list, tuple)) or len(predictions) == 0:
        raise ValueError("predictions: expected a non-empty list of tensors (N, C, h, w) in [-1, 1]")
    _check_image(target, "target")
    total = None
    for i, pred in enumerate(predictions):
        _check_image(pred, f"predictions[{i}]")
        if pred.shape[:2] != target.shape[:2]:
            raise ValueError(
                f"predictions[{i}]: batch and channels {tuple(pred.shape[:2])} differ from target's "
                f"{tuple(target.shape[:2])}"
            )
        scaled = resize_target(target, tuple(pred.shape[-2:])).to(pred.dtype)
        term = mix_loss(pred, scaled, alpha=alpha)
        if chroma:
            term = term + chroma * chroma_loss(pred, scaled)
        if colour_match:
            term = term + colour_match * colourfulness_loss(pred, scaled)
        total = term if total is None else total + term
    return total


# ------------------------------------------------------------------------------------------------------------
# Domain translation losses: Eq. (1), and the GAN form of Eq. (4)
# ------------------------------------------------------------------------------------------------------------
def lsgan_loss(prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
    """Least-squares GAN loss (Mao et al. 2017, as in CycleGAN [16]) of raw discriminator scores.

    ``mean((D - 1)^2)`` when ``target_is_real`` else ``mean(D^2)``. The discriminator minimizes
    ``lsgan_loss(D(real), True) + lsgan_loss(D(fake), False)``; the generator minimizes
    ``lsgan_loss(D(fake), True)``. Used for the image GAN terms of Eq. (1) and for the feature GAN term of Eq. (4).
    Eq. (4) is printed as ``E[D(fake)] + E[D(real) - 1]`` without squares, which is not a usable loss (unbounded
    below); we implement the least-squares form ``E[D(fake)^2] + E[(D(real) - 1)^2]`` that the CycleGAN
    framework the paper builds on uses.

    Args:
        prediction: discriminator output of any shape (e.g. the (N, 1, h, w) patch map), unbounded scores.
        target_is_real: True for "should be judged real", False for "fake".
    Returns:
        scalar tensor.
    """
    if not isinstance(prediction, torch.Tensor) or not torch.is_floating_point(prediction):
        raise ValueError("prediction: expected a floating-point tensor of discriminator scores")
    if not isinstance(target_is_real, bool):
        raise ValueError(f"target_is_real: expected a bool, got {type(target_is_real).__name__}")
    if target_is_real:
        return ((prediction - 1.0) ** 2).mean()
    return (prediction**2).mean()


def discriminator_loss(scores_real: torch.Tensor, scores_fake: torch.Tensor) -> torch.Tensor:
    """A discriminator's LSGAN loss, halved as in CycleGAN (so it learns at half the generators' rate):
    ``0.5 * (lsgan_loss(D(real), True) + lsgan_loss(D(fake), False))``, computed in float32.

    The one definition used for D_N^img and D_G^img (Eq. (1), stages 1 and 3) and D_G^feat (Eq. (4)), and by the
    exercises' checks. Pass the fakes' scores computed on *detached* (or pooled) images.
    """
    return 0.5 * (lsgan_loss(scores_real.float(), True) + lsgan_loss(scores_fake.float(), False))


def cycle_loss(reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Cycle-consistency loss L_cyc of Eq. (1) (CycleGAN [16]): mean |G_G2N(G_N2G(x)) - x| in [-1, 1] units.

    Call it once per direction (NIR -> gray -> NIR and gray -> NIR -> gray) and add the two.
    """
    _check_pair(reconstructed, original, ("reconstructed", "original"))
    return (reconstructed - original).abs().mean()


def identity_loss(same: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Identity loss L_idt of Eq. (1) (CycleGAN [16]): mean |G_N2G(x_g) - x_g| in [-1, 1] units.

    ``same`` is a generator applied to an image already in its output domain (e.g. the NIR->gray generator fed a
    gray image); it should leave it unchanged.
    """
    _check_pair(same, original, ("same", "original"))
    return (same - original).abs().mean()


@dataclass
class LossWeights:
    """Loss weights of Eqs. (1) and (5); defaults are the paper's.

    Attributes:
        lambda_cyc: lambda_1 of Eq. (1), the cycle term. Paper: 1 (CycleGAN's default is 10).
        lambda_idt: lambda_2 of Eq. (1), the identity term. Paper: 1 (CycleGAN's default is 0.5, applied on top
            of lambda_cyc, i.e. an effective 5).
        lambda_tran: lambda_1 of Eq. (5), weight of L_tran in the fine-tuning objective. Paper: 1.
        lambda_feat: lambda_2 of Eq. (5), weight of the feature GAN term of Eq. (4). Paper: 1.
        lambda_paired: weight of an optional L1 term between translated NIR and its paired gray image (our
            addition, not in the paper; off by default).
    """

    lambda_cyc: float = 1.0
    lambda_idt: float = 1.0
    lambda_tran: float = 1.0
    lambda_feat: float = 1.0
    lambda_paired: float = 0.0

    def __post_init__(self) -> None:
        for name in ("lambda_cyc", "lambda_idt", "lambda_tran", "lambda_feat", "lambda_paired"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name}: expected a finite non-negative number, got {value!r}")
            setattr(self, name, float(value))

    @classmethod
    def cyclegan(cls) -> "LossWeights":
        """CycleGAN's defaults for the Eq. (1) weights (lambda_cyc 10, lambda_idt 0.5 x 10 = 5 effective)."""
        return cls(lambda_cyc=10.0, lambda_idt=5.0)
